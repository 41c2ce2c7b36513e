using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

public sealed unsafe partial class Conv2D
{
    /// <summary>Whether this layer can make its output a band of rows at a time for the depthwise layer after it
    /// (<see cref="DepthwiseConv2D"/>'s expansion): pointwise tiles at stride 1, which map input position p to output position p
    /// (AVX-512's; AVX2's pointwise GEMM runs whole planes).</summary>
    internal bool CanRunInBands => _pointwiseWeights is not null && _simd == SimdLevel.Vector512 && _subsample is null && !Gated;

    /// <summary>Floats of per-thread scratch <see cref="RunRows"/> needs.</summary>
    internal static long RowsScratchFloats => PointwiseConv.ScratchFloats;

    /// <summary>
    /// Output rows [<paramref name="row0"/>, <paramref name="row1"/>) of one image into <paramref name="band"/>, its channels
    /// <paramref name="bandPlane"/> floats apart: <paramref name="image"/> is the image's input [C][H][W]. Every value is the one
    /// a whole pass stores there (its activation included): each position's sum does not depend on which others share its tile.
    /// </summary>
    internal void RunRows(float* image, int row0, int row1, float* band, nint bandPlane, float* scratch)
    {
        int w = _win.OW, positions = (row1 - row0) * w;
        fixed (float* weights = _pointwiseWeights, bias = _pointwiseBias)
        {
            PointwiseConv.Run(weights, bias, image + (nint)row0 * w, (nint)InputShape.H * InputShape.W, InputShape.C, positions, band, bandPlane,
                OutputShape.C, StoredActivation, 0, DirectConv.Tiles(OutputShape.C), 0, PointwiseConv.Positions(positions), scratch);
        }
    }
}
