using CnnService.Engine.Format;
using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>
/// 2-D convolution, lowered to one GEMM per call: [M x K] weights times the im2col view of the
/// whole batch, [K x N*P], straight into the NCHW output. Planned at load time: weights packed,
/// the lowering chosen (stride 1 on a wide map reads B in place, <see cref="ImplicitGemm"/>;
/// otherwise <see cref="Im2ColPacker"/> packs it panel by panel), padding (zeros or reflect)
/// copied into scratch before the GEMM, bias added and ReLU applied (when the next layer is a
/// ReLU) inside the GEMM's store.
/// </summary>
public sealed unsafe class Conv2D : Layer, IParallelWork
{
    private readonly PackedMatrix _weights;
    private readonly Window2D _win;
    private readonly bool _reflect;
    private readonly bool _hasBias;
    private readonly SimdLevel _simd;
    private readonly PadStep _pad;

    /// <summary>Row offsets into a padded image when this layer reads B in place (implicit GEMM), else null.</summary>
    private readonly nint[]? _implicitOffsets;

    internal Conv2D(LayerSpec spec, string where, TensorShape input, IWeightSource weights, SimdLevel simd, bool fuseRelu)
        : base("conv2d", spec.Name, input, Output(spec, where, input, out Window2D win))
    {
        _win = win;
        _simd = simd;
        _pad = new PadStep(this);
        FusedRelu = fuseRelu;
        _reflect = spec.PaddingMode switch
        {
            "zeros" => false,
            "reflect" => true,
            _ => throw new ModelFormatException($"{where}: padding_mode must be \"zeros\" or \"reflect\", got \"{spec.PaddingMode}\"."),
        };
        if (_reflect && (Math.Max(win.Top, win.Bottom) >= input.H || Math.Max(win.Left, win.Right) >= input.W))
            throw new ModelFormatException($"{where}: reflect padding must be smaller than the input ({input.H}x{input.W}).");

        int m = OutputShape.C, k = input.C * win.KH * win.KW;
        float[] w = weights.Take($"{spec.Name}.weight", m, input.C, win.KH, win.KW);
        _hasBias = spec.UseBias;
        float[] b = _hasBias ? weights.Take($"{spec.Name}.bias", m) : [];
        _weights = new PackedMatrix(w, m, k, b);
        if (simd == SimdLevel.Vector512 && win.SH == 1 && win.SW == 1 && ImplicitGemm.Suits(PaddedW, win.KW))
            _implicitOffsets = ImplicitGemm.Offsets(input.C, PaddedH, PaddedW, win.KH, win.KW);
    }

    /// <summary>How the plan lowers this layer: "implicit-gemm" (B read in place) or "im2col" (B packed panel by panel).</summary>
    public string Lowering => _implicitOffsets is null ? "im2col" : "implicit-gemm";

    public int KernelHeight => _win.KH;

    public int KernelWidth => _win.KW;

    /// <summary>A copy of the kernels, [filters, input channels, kh, kw] as PyTorch stores them (the layer keeps them packed).</summary>
    public float[] CopyWeights() => _weights.Unpack();

    /// <summary>The ReLU after this layer runs inside its GEMM.</summary>
    public bool FusedRelu { get; }

    public override long Parameters => (long)_weights.M * _weights.K + (_hasBias ? _weights.M : 0);

    public override long FlopsPerImage => 2L * _weights.M * _weights.K * OutputShape.H * OutputShape.W;

    private int PaddedH => InputShape.H + _win.Top + _win.Bottom;

    private int PaddedW => InputShape.W + _win.Left + _win.Right;

    private long PaddedFloats(int batch) => _win.HasPadding ? (long)batch * InputShape.C * PaddedH * PaddedW : 0;

    internal override long ScratchFloats(int batch) => PaddedFloats(batch);

    internal override void Forward(ParallelJob job, int threads)
    {
        if (_win.HasPadding)
        {
            long floats = PaddedFloats(job.Batch);
            job.Run(_pad, Parallelism.Chunks(floats * 8, PaddedH, threads), threads);
            job.Input = job.Scratch;
        }

        job.Run(this, Parallelism.Chunks(FlopsPerImage * job.Batch, Panels(job.Batch), threads), threads);
    }

    private int Panels(int batch) => _implicitOffsets is null
        ? (batch * OutputShape.H * OutputShape.W + Gemm.PanelWidth(_simd) - 1) / Gemm.PanelWidth(_simd)
        : batch * ImplicitGemm.PanelsPerImage(_win.OH, PaddedW);

    void IParallelWork.RunChunk(ParallelJob job, int chunk)
    {
        (int start, int end) = Parallelism.Range(Panels(job.Batch), job.Chunks, chunk);
        if (_implicitOffsets is not null)
        {
            fixed (nint* offsets = _implicitOffsets)
            {
                ImplicitGemm.Run(_weights, job.Input, offsets, InputShape.C, PaddedH, PaddedW, _win.OH, _win.OW, job.Output, FusedRelu && !job.Unfused, start, end,
                    ThreadScratch.Get(ImplicitGemm.ScratchFloats(_weights)));
            }

            return;
        }

        int cols = job.Batch * OutputShape.H * OutputShape.W;
        var packer = new Im2ColPacker(job.Input, job.Batch, InputShape.C, PaddedH, PaddedW, _win.KH, _win.KW, _win.SH, _win.SW, _win.OH, _win.OW);
        Gemm.Run(_simd, _weights, packer, cols, job.Output, OutputShape.H * OutputShape.W, FusedRelu && !job.Unfused, start, end,
            ThreadScratch.Get(Gemm.ScratchFloats(_weights, _simd)));
    }

    /// <summary>
    /// Copies the batch, padded, into scratch: the first phase of a padded call. Chunks split
    /// rows, not channels, as the GEMM's chunks split positions: the core that pads a band of
    /// rows is then likely the one that reads it, instead of fetching it from the other core.
    /// </summary>
    private sealed class PadStep(Conv2D conv) : IParallelWork
    {
        public void RunChunk(ParallelJob job, int chunk)
        {
            TensorShape input = conv.InputShape;
            Window2D win = conv._win;
            (int start, int end) = Parallelism.Range(conv.PaddedH, job.Chunks, chunk);
            Pad.Apply(job.Input, job.Scratch, job.Batch * input.C, input.H, input.W, win.Top, win.Bottom, win.Left, win.Right, conv._reflect, start, end);
        }
    }

    private static TensorShape Output(LayerSpec spec, string where, TensorShape input, out Window2D win)
    {
        if (spec.Filters is not int filters || filters < 1)
            throw new ModelFormatException($"{where}: \"filters\" must be a positive integer.");
        win = Window2D.Resolve(spec, where, input.H, input.W, defaultStrideIsKernel: false);
        return new TensorShape(filters, win.OH, win.OW);
    }
}
