using CnnService.Engine.Format;
using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>
/// Fully connected: y = W x + b with PyTorch's [out, in] weight. The input is read as a flat
/// vector in (C, H, W) order, as after a flatten. At batch 4 and up it is the convolution GEMM
/// with one column per image (P = 1); below that a matrix-vector kernel that streams the weights
/// once per four images.
/// </summary>
public sealed unsafe partial class Dense : Layer, IParallelWork
{
    /// <summary>Below this many images the GEMM's 32-column panels are mostly padding.</summary>
    private const int GemvMaxBatch = 4;

    private readonly PackedMatrix _weights;
    private readonly bool _hasBias;
    private readonly SimdLevel _simd;

    internal Dense(LayerSpec spec, string where, TensorShape input, IWeightSource weights, SimdLevel simd, bool fuseRelu)
        : base("dense", spec.Name, input, Output(spec, where))
    {
        _simd = simd;
        FusedRelu = fuseRelu;
        int m = OutputShape.C, k = input.Size;
        float[] w = weights.Take($"{spec.Name}.weight", m, k);
        _hasBias = spec.UseBias;
        float[] b = _hasBias ? weights.Take($"{spec.Name}.bias", m) : [];
        _weights = new PackedMatrix(w, m, k, b);
    }

    public bool FusedRelu { get; }

    public override long Parameters => (long)_weights.M * _weights.K + (_hasBias ? _weights.M : 0);

    public override long FlopsPerImage => 2L * _weights.M * _weights.K;

    private bool UseGemv(int batch) => batch < GemvMaxBatch && Gemv.Supports(_simd);

    internal override void Forward(ParallelJob job, int threads)
    {
        int items = UseGemv(job.Batch) ? _weights.Panels : Panels(job.Batch);
        job.Run(this, Parallelism.Chunks(FlopsPerImage * job.Batch, items, threads), threads);
    }

    void IParallelWork.RunChunk(ParallelJob job, int chunk)
    {
        if (UseGemv(job.Batch))
        {
            (int start, int end) = Parallelism.Range(_weights.Panels, job.Chunks, chunk);
            Gemv.Run(_simd, _weights, job.Input, job.Batch, job.Output, FusedRelu && !job.Unfused, start, end);
        }
        else
        {
            (int start, int end) = Parallelism.Range(Panels(job.Batch), job.Chunks, chunk);
            Gemm.Run(_simd, _weights, new RowPacker(job.Input, _weights.K, vector: _simd == SimdLevel.Vector512), job.Batch, job.Output, 1, FusedRelu && !job.Unfused, start, end,
                ThreadScratch.Get(Gemm.ScratchFloats(_weights, _simd)));
        }
    }

    private int Panels(int batch) => (batch + Gemm.PanelWidth(_simd) - 1) / Gemm.PanelWidth(_simd);

    private static TensorShape Output(LayerSpec spec, string where)
    {
        if (spec.Units is not int units || units < 1)
            throw new ModelFormatException($"{where}: \"units\" must be a positive integer.");
        return new TensorShape(units, 1, 1);
    }
}
