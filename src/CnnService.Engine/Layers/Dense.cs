using CnnService.Engine.Format;
using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>
/// Fully connected: y = W x + b with PyTorch's [out, in] weight. The input is read as a flat
/// vector in (C, H, W) order, as after a flatten. At batch 4 and up it is the convolution GEMM
/// with one column per image (P = 1); below that a matrix-vector kernel that streams the weights
/// once per two images (<see cref="DenseProduct"/>).
/// </summary>
public sealed unsafe partial class Dense : Layer, IParallelWork
{
    private readonly PackedMatrix _weights;
    private readonly bool _hasBias;
    private readonly DenseProduct _product;

    internal Dense(LayerSpec spec, string where, TensorShape input, IWeightSource weights, SimdLevel simd, bool fuseRelu)
        : base("dense", spec.Name, input, Output(spec, where))
    {
        FusedRelu = fuseRelu;
        int m = OutputShape.C, k = input.Size;
        float[] w = weights.Take($"{spec.Name}.weight", m, k);
        _hasBias = spec.UseBias;
        float[] b = _hasBias ? weights.Take($"{spec.Name}.bias", m) : [];
        _weights = new PackedMatrix(w, m, k, b);
        _product = new DenseProduct(_weights, simd);
    }

    public bool FusedRelu { get; }

    public override long Parameters => (long)_weights.M * _weights.K + (_hasBias ? _weights.M : 0);

    public override long FlopsPerImage => 2L * _weights.M * _weights.K;

    internal override bool WholeBatchOnly => true;

    internal override void Forward(ParallelJob job, int threads) =>
        job.Run(this, Parallelism.Chunks(FlopsPerImage * job.Batch, _product.Items(job), threads), threads);

    void IParallelWork.RunChunk(ParallelJob job, int chunk) => _product.Run(job, chunk, FusedRelu && !job.Unfused);

    private static TensorShape Output(LayerSpec spec, string where)
    {
        if (spec.Units is not int units || units < 1)
            throw new ModelFormatException($"{where}: \"units\" must be a positive integer.");
        return new TensorShape(units, 1, 1);
    }
}
