using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

public sealed unsafe partial class Conv2D
{
    /// <summary>
    /// Set by the plan: this 1x1 layer's input is a map that a squeeze-and-excitation gate scales per channel, and the gate
    /// (the call's second input, C floats an image) scales the weights' columns instead, per image: sum over c of
    /// (W[m, c] g[c]) x[c] for W (x g). The mul's pass over the map (read and written) is saved for M x C multiplies.
    /// </summary>
    public bool Gated { get; private set; }

    /// <summary>Whether a gate can scale this layer's weights: a 1x1 stride-1 unpadded layer on implicit GEMM (EfficientNet's
    /// projections on 112x112 and 56x56, to 16 and 24 filters), where scaling M x C weights costs less than a quarter
    /// of the mul's pass over C x H x W.</summary>
    internal bool CanFuseGate => _implicitOffsets is not null && _pooled is null && _directPool is null && !Gated
        && _win is { KH: 1, KW: 1, SH: 1, SW: 1, HasPadding: false } && 4L * OutputShape.C <= (long)OutputShape.H * OutputShape.W;

    /// <summary>Called once by the model's plan, before the model is shared: the mul before this layer runs nothing.</summary>
    internal void FuseGate()
    {
        if (!CanFuseGate) throw new InvalidOperationException($"{Name} ({Lowering}) cannot take a gate into its weights.");
        Gated = true;
    }

    /// <summary>Panels [start, end) of a gated call: image by image, each with A scaled by that image's gate.</summary>
    private void RunGated(ParallelJob job, nint* offsets, int start, int end)
    {
        int perImage = ImplicitGemm.PanelsPerImage(_simd, _win.OH, _win.OW, PaddedW, _win.KW);
        long tiles = ImplicitGemm.ScratchFloats(_simd, _weights);
        float* scratch = ThreadScratch.Get(tiles + (long)_weights.Panels * PackedMatrix.MR * _weights.K);
        float* scaled = scratch + tiles, gates = (float*)job.Inputs[1];
        for (int from = start; from < end;)
        {
            int n = from / perImage, to = Math.Min(end, (n + 1) * perImage);
            _weights.ScaleColumns(gates + (nint)n * InputShape.C, scaled);
            ImplicitGemm.Run(_simd, _weights, job.Input, job.Batch, offsets, InputShape.C, PaddedH, PaddedW, _win.KW, _win.OH, _win.OW, job.Output, FusedRelu, from, to, scratch, scaled);
            from = to;
        }
    }
}
