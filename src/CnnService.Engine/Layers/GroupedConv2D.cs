using CnnService.Engine.Format;
using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>
/// A conv2d with any number of groups and any dilation (ResNeXt, AlexNet's two towers, DeepLab's
/// atrous convolutions): filter block g reads only input channels [g*C/G, (g+1)*C/G). Each group's
/// weights are packed once, as their own GEMM A operand. A call pads the batch (zeros or reflect),
/// then splits (image, group, block of output positions) items across threads; an item unrolls its
/// block of the group's dilated taps into the thread's scratch (<see cref="DilatedIm2Col"/>) and
/// multiplies it with the engine's GEMM, bias and a following ReLU applied in its store. Groups of 16 or of whole 32s of
/// filters at stride 1 or 2 run <see cref="DirectConv"/>'s tiles on the padded input in place instead (GroupedConv2D.Direct.cs).
/// </summary>
public sealed unsafe partial class GroupedConv2D : Layer, IParallelWork, IConvolution
{
    /// <summary>Floats of one im2col block (256 KB): big enough for whole GEMM panels, small enough for L2.</summary>
    private const int BlockFloats = 1 << 16;

    private readonly PackedMatrix[] _groups;
    private readonly Window2D _win;
    private readonly Pair _dilation;
    private readonly bool _reflect;
    private readonly bool _hasBias;
    private readonly SimdLevel _simd;
    private readonly PadStep _pad;

    /// <summary>Output positions per im2col block: whole panels of the GEMM.</summary>
    private readonly int _blockColumns;

    internal GroupedConv2D(LayerSpec spec, string where, TensorShape input, IWeightSource weights, SimdLevel simd, bool fuseRelu, ConvSettings settings)
        : base("conv2d", spec.Name, input, Output(spec, where, input, settings.Dilation, out Window2D win))
    {
        _win = win;
        _dilation = settings.Dilation;
        _simd = simd;
        _pad = new PadStep(this);
        FusedRelu = fuseRelu;
        Groups = settings.Groups;
        _reflect = spec.PaddingMode switch
        {
            "zeros" => false,
            "reflect" => true,
            _ => throw new ModelFormatException($"{where}: padding_mode must be \"zeros\" or \"reflect\", got \"{spec.PaddingMode}\"."),
        };
        if (_reflect && (Math.Max(win.Top, win.Bottom) >= input.H || Math.Max(win.Left, win.Right) >= input.W))
            throw new ModelFormatException($"{where}: reflect padding must be smaller than the input ({input.H}x{input.W}).");

        int m = OutputShape.C, mg = m / Groups, cg = input.C / Groups, kg = cg * win.KH * win.KW;
        float[] w = weights.Take($"{spec.Name}.weight", m, cg, win.KH, win.KW);
        _hasBias = spec.UseBias;
        float[] b = _hasBias ? weights.Take($"{spec.Name}.bias", m) : [];
        _groups = new PackedMatrix[Groups];
        for (int g = 0; g < Groups; g++)
            _groups[g] = new PackedMatrix(w.AsSpan(g * mg * kg, mg * kg), mg, kg, _hasBias ? b.AsSpan(g * mg, mg) : []);

        int nr = Gemm.PanelWidth(simd), positions = win.OH * win.OW;
        _blockColumns = Math.Min(Math.Max(nr, BlockFloats / kg / nr * nr), (positions + nr - 1) / nr * nr);
        if (DirectSuits(simd, mg, win, _dilation)) (_direct, _directBias, _directTaps) = PackDirect(w, b, mg, kg);
    }

    public int KernelHeight => _win.KH;

    public int KernelWidth => _win.KW;

    public int Groups { get; }

    public Pair Dilation => _dilation;

    private protected override string NotTrainable => ConvSettings.NotTrainable(this);

    public bool FusedRelu { get; }

    /// <summary>[filters, C / groups, kh, kw], as PyTorch stores them.</summary>
    public float[] CopyWeights()
    {
        int per = _groups[0].M * _groups[0].K;
        var all = new float[per * Groups];
        for (int g = 0; g < Groups; g++) _groups[g].Unpack().CopyTo(all, g * per);
        return all;
    }

    public override long Parameters => (long)OutputShape.C * _groups[0].K + (_hasBias ? OutputShape.C : 0);

    public override long FlopsPerImage => 2L * OutputShape.C * _groups[0].K * OutputShape.H * OutputShape.W;

    private int PaddedH => InputShape.H + _win.Top + _win.Bottom;

    private int PaddedW => InputShape.W + _win.Left + _win.Right;

    private int Positions => OutputShape.H * OutputShape.W;

    private int BlocksPerGroup => (Positions + _blockColumns - 1) / _blockColumns;

    internal override long ScratchFloats(int batch) => _win.HasPadding ? (long)batch * InputShape.C * PaddedH * PaddedW : 0;

    internal override void Forward(ParallelJob job, int threads)
    {
        if (_win.HasPadding)
        {
            long floats = ScratchFloats(job.Batch);
            job.Run(_pad, Parallelism.Chunks(floats * 8, PaddedH, threads), threads);
            job.Input = job.Scratch;
        }

        int items = job.Batch * Groups * (_direct is null ? BlocksPerGroup : DirectRows);
        job.Run(this, Parallelism.Chunks(FlopsPerImage * job.Batch, items, threads), threads);
    }

    void IParallelWork.RunChunk(ParallelJob job, int chunk)
    {
        if (_direct is not null)
        {
            RunDirect(job, chunk);
            return;
        }

        int blocks = BlocksPerGroup, positions = Positions, hp = PaddedH, wp = PaddedW;
        int cg = InputShape.C / Groups, mg = OutputShape.C / Groups;
        (int start, int end) = Parallelism.Range(job.Batch * Groups * blocks, job.Chunks, chunk);
        bool relu = FusedRelu && !job.Unfused;

        long colFloats = ((long)_groups[0].K * _blockColumns + 15) / 16 * 16;   // the GEMM's scratch starts on a cache line
        float* col = ThreadScratch.Get(colFloats + Gemm.ScratchFloats(_groups[0], _simd));
        float* gemmScratch = col + colFloats;
        for (int item = start; item < end; item++)
        {
            // Item (n, g, block): positions [p0, p1) of output channels [g*Mg, (g+1)*Mg) of image n.
            int block = item % blocks, ng = item / blocks, g = ng % Groups, n = ng / Groups;
            int p0 = block * _blockColumns, p1 = Math.Min(positions, p0 + _blockColumns), count = p1 - p0;
            float* image = job.Input + ((nint)n * InputShape.C + (nint)g * cg) * hp * wp;
            DilatedIm2Col.Forward(image, cg, hp, wp, _win.KH, _win.KW, _win.SH, _win.SW, _dilation.H, _dilation.W, _win.OW, p0, p1, col);

            float* output = job.Output + ((nint)n * OutputShape.C + (nint)g * mg) * positions + p0;
            int panels = (count + Gemm.PanelWidth(_simd) - 1) / Gemm.PanelWidth(_simd);
            Gemm.Run(_simd, _groups[g], new ColPacker(col, count), count, output, positions, relu, 0, panels, gemmScratch);
        }
    }

    /// <summary>Copies the batch, padded, into scratch, rows split across threads as <see cref="Conv2D"/> does.</summary>
    private sealed class PadStep(GroupedConv2D conv) : IParallelWork
    {
        public void RunChunk(ParallelJob job, int chunk)
        {
            TensorShape input = conv.InputShape;
            Window2D win = conv._win;
            (int start, int end) = Parallelism.Range(conv.PaddedH, job.Chunks, chunk);
            Pad.Apply(job.Input, job.Scratch, job.Batch * input.C, input.H, input.W, win.Top, win.Bottom, win.Left, win.Right, conv._reflect, start, end);
        }
    }

    private static TensorShape Output(LayerSpec spec, string where, TensorShape input, Pair dilation, out Window2D win)
    {
        if (spec.Filters is not int filters || filters < 1)
            throw new ModelFormatException($"{where}: \"filters\" must be a positive integer.");
        win = Window2D.Resolve(spec, where, input.H, input.W, defaultStrideIsKernel: false, dilation);
        return new TensorShape(filters, win.OH, win.OW);
    }
}
