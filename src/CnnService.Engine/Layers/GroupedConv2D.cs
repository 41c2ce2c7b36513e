using CnnService.Engine.Format;
using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>
/// A conv2d with any number of groups and any dilation (ResNeXt, AlexNet's two towers, DeepLab's
/// atrous convolutions): filter block g reads only input channels [g*C/G, (g+1)*C/G). Each group's
/// weights are packed once, as their own GEMM A operand. A call splits (image, group, block of output
/// positions) items across threads; a thread pads the rows of the group's planes its items read (zeros or reflect)
/// into its own scratch, then an item unrolls its block of the group's dilated taps there too (<see cref="DilatedIm2Col"/>)
/// and multiplies it with the engine's GEMM, bias and a following ReLU applied in its store. Groups of 16 or of whole
/// 32s of filters at stride 1 or 2 run <see cref="DirectConv"/>'s tiles (or <see cref="DirectConv256"/>'s) on the padded rows
/// instead (GroupedConv2D.Direct.cs).
/// Padding by groups, where the items split: a pass over the whole input first, split by rows, had each core read half its
/// groups' padded planes from the other core's cache (regnet_x_400mf's grouped layers ran slower on two threads than on one).
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

    /// <summary>Output positions per im2col block: whole panels of the GEMM.</summary>
    private readonly int _blockColumns;

    internal GroupedConv2D(LayerSpec spec, string where, TensorShape input, IWeightSource weights, SimdLevel simd, bool fuseRelu, ConvSettings settings)
        : base("conv2d", spec.Name, input, Output(spec, where, input, settings.Dilation, out Window2D win))
    {
        _win = win;
        _dilation = settings.Dilation;
        _simd = simd;
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

    internal override void Forward(ParallelJob job, int threads)
    {
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

        // The im2col block, the GEMM's scratch and the padded rows, each from a cache line.
        long colFloats = ((long)_groups[0].K * _blockColumns + 15) / 16 * 16, gemmFloats = (Gemm.ScratchFloats(_groups[0], _simd) + 15) / 16 * 16;
        bool padHere = _win.HasPadding;
        float* col = ThreadScratch.Get(colFloats + gemmFloats + (padHere ? (long)cg * hp * wp : 0));
        float* gemmScratch = col + colFloats, band = gemmScratch + gemmFloats;
        for (int item = start; item < end;)
        {
            // Items [item, runEnd): blocks [b0, b1) of group g of image n, from the padded rows their positions read.
            int ng = item / blocks, g = ng % Groups, n = ng / Groups, b0 = item % blocks;
            int runEnd = Math.Min(end, (ng + 1) * blocks), b1 = b0 + runEnd - item;
            float* image;
            int bandH = hp;
            if (padHere)
            {
                int y0 = b0 * _blockColumns / _win.OW, y1 = (Math.Min(positions, b1 * _blockColumns) - 1) / _win.OW + 1;
                int bandStart = y0 * _win.SH;
                bandH = (y1 - 1) * _win.SH + (_win.KH - 1) * _dilation.H + 1 - bandStart;
                image = PadGroupRows(job.Input, n, g, bandStart, bandH, band);
            }
            else
            {
                image = job.Input + ((nint)n * InputShape.C + (nint)g * cg) * hp * wp;
            }

            for (int block = b0; block < b1; block++)
            {
                // Positions [p0, p1) of output channels [g*Mg, (g+1)*Mg) of image n.
                int p0 = block * _blockColumns, p1 = Math.Min(positions, p0 + _blockColumns), count = p1 - p0;
                DilatedIm2Col.Forward(image, cg, bandH, wp, _win.KH, _win.KW, _win.SH, _win.SW, _dilation.H, _dilation.W, _win.OW, p0, p1, col);

                float* output = job.Output + ((nint)n * OutputShape.C + (nint)g * mg) * positions + p0;
                int panels = (count + Gemm.PanelWidth(_simd) - 1) / Gemm.PanelWidth(_simd);
                Gemm.Run(_simd, _groups[g], new ColPacker(col, count), count, output, positions, relu, 0, panels, gemmScratch);
            }

            item = runEnd;
        }
    }

    /// <summary>Padded input rows [rowStart, rowStart + rows) of group g of image n (zeros or reflect) into <paramref name="band"/>;
    /// returns where the group's padded planes start as the band holds them: row y of channel c at the result + c * rows * Wp + y * Wp.</summary>
    private float* PadGroupRows(float* input, int n, int g, int rowStart, int rows, float* band)
    {
        int cg = InputShape.C / Groups, wp = PaddedW;
        float* group = input + ((nint)n * InputShape.C + (nint)g * cg) * InputShape.H * InputShape.W;
        Pad.Band(group, band, (nint)rows * wp, cg, InputShape.H, InputShape.W, _win.Top, _win.Bottom, _win.Left, _win.Right, _reflect, rowStart, rowStart + rows);
        return band - (nint)rowStart * wp;
    }

    private static TensorShape Output(LayerSpec spec, string where, TensorShape input, Pair dilation, out Window2D win)
    {
        if (spec.Filters is not int filters || filters < 1)
            throw new ModelFormatException($"{where}: \"filters\" must be a positive integer.");
        win = Window2D.Resolve(spec, where, input.H, input.W, defaultStrideIsKernel: false, dilation);
        return new TensorShape(filters, win.OH, win.OW);
    }
}
