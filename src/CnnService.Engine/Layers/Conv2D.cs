using CnnService.Engine.Format;
using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>
/// 2-D convolution. Planned at load time: weights packed, and the lowering chosen by shape (or, in a measured plan, by
/// timing those the shape admits: <see cref="Candidates"/>).
/// An unpadded 1x1 convolution runs <see cref="PointwiseConv"/> (the flat plane in 14-position tiles,
/// output channels in the lanes; with AVX2 <see cref="PointwiseGemm256"/>; a strided one subsamples its input first). Stride 1 with tiles of 32 filters (the last maybe 16) and a deep enough K runs <see cref="DirectConv"/>
/// (output channels in the vector lanes, no im2col at all). Otherwise it is one GEMM per call:
/// [M x K] weights times the im2col view of the whole batch, [K x N*P], straight into the NCHW
/// output (stride 1 on a wide map reads B in place, <see cref="ImplicitGemm"/>; otherwise
/// <see cref="Im2ColPacker"/> packs it panel by panel), or, 3x3 at stride 1, 36 GEMMs in Winograd's transformed domain
/// (<see cref="WinogradConv"/>). Padding (zeros or reflect) is copied first:
/// the whole batch for the GEMM lowerings, each chunk's own rows for direct tiles, nothing when the
/// layer before wrote it in place. Bias and a following ReLU are applied in the kernel's store.
/// </summary>
public sealed unsafe partial class Conv2D : Layer, IParallelWork, IConvolution
{
    private readonly PackedMatrix _weights;
    private readonly Window2D _win;
    private readonly bool _reflect;
    private readonly bool _hasBias;
    private readonly SimdLevel _simd;
    private readonly PadStep _pad;

    /// <summary>Row offsets into a padded image when this layer reads B in place (implicit GEMM), else null.</summary>
    private readonly nint[]? _implicitOffsets;

    /// <summary>The weights as <see cref="DirectConv"/> reads them, [Tiles(M)][K][32], when it runs this layer; else null.</summary>
    private readonly float[]? _directWeights;
    private readonly nint[] _directTaps = [];

    /// <summary>Direct tiles take two output rows of 7 at a time (a 7-wide map); else one row.</summary>
    private readonly bool _directTwoRows;

    /// <summary>Direct tiles take one row of 12 as two overlapping halves of 7 (a row of 13 is the row loop's one tile of 13).</summary>
    private readonly bool _directSplitRow;

    /// <summary>Direct tiles loop over filters outside rows: the weights outgrow 1 MB, or the L2 where it is smaller (AMD Zen 3: 512 KB).</summary>
    private readonly bool _directWeightsOuter;

    /// <summary>A direct layer at stride 2 whose weights outgrow L2 (ResNet's 128 -> 256 and 256 -> 512, 1.2 and 4.7 MB): the
    /// threads split its filters, each streaming its share of the weights once, rather than its few output rows, each
    /// streaming all of them. ResNet-18's 256 -> 512 layer on two threads 0.35 -> 0.30 ms (best; medians 0.37-0.38 ->
    /// 0.30-0.31), its 128 -> 256 one unchanged (AMD Zen 5). So does a stride-1 layer of 7 rows (ResNet's 512 -> 512),
    /// whose pairs of rows and last half row split 4 rows against 3: resnet18 on two threads 1.01-1.02x at batch 1,
    /// 1.03x at batch 3 (paired in one process). When its rows were 8 (the last pair moved back), this split measured
    /// 4-9 % slower there.</summary>
    private readonly bool _directSplitFilters;

    /// <summary>The weights and bias as <see cref="PointwiseConv"/> reads them, [tiles][C][32], when it runs this layer; else null.</summary>
    private readonly float[]? _pointwiseWeights;
    private readonly float[] _pointwiseBias = [];

    /// <summary>Position tiles of a pointwise layer's plane taken together (<see cref="PointwiseConv.Block"/>): in a call one
    /// thread runs, and in one the threads share.</summary>
    private readonly int _pointwiseBlock, _pointwiseSharedBlock;

    private readonly SubsampleStep? _subsample;

    /// <summary>The weights as <see cref="WinogradConv"/> reads them, G g G^T packed [36][panels][C][MR], when it runs this
    /// layer; else null. Beside them as many zeros as padded filters: the transformed products start from zero, the bias
    /// comes after the inverse transform.</summary>
    private readonly float[]? _winogradWeights;
    private readonly float[] _winogradZeros = [];

    /// <summary>A 1x1 convolution on a 1x1 map (a squeeze-and-excitation layer) is a dense layer's product: its GEMV, not a
    /// 32-column GEMM panel with one column used; else null.</summary>
    private readonly DenseProduct? _dense;

    /// <summary>The next layer, when it is a zero-padded convolution that reads this layer's output with
    /// its padding already in place (set once, at plan time): the copy that pads it is saved.</summary>
    private Conv2D? _writesPaddedFor;

    /// <summary>The spec as written and the error prefix it was built from: to plan it again with another lowering.</summary>
    internal LayerSpec Spec { get; }
    private readonly string _where;

    /// <summary>Plans the layer; <paramref name="lowering"/> forces one of the lowerings its shape admits (else the fixed choice).</summary>
    internal Conv2D(LayerSpec spec, string where, TensorShape input, IWeightSource weights, SimdLevel simd, bool fuseRelu, ConvLowering? lowering = null)
        : base("conv2d", spec.Name, input, Output(spec, where, input, out Window2D win))
    {
        Spec = spec;
        _where = where;
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
        bool stride1 = win.SH == 1 && win.SW == 1;

        // A 1x1 convolution on a 1x1 map is the dense product, whatever the SIMD level: [N][C] times the weights.
        if (win.KH == 1 && win.KW == 1 && !win.HasPadding && input.H == 1 && input.W == 1)
        {
            if (lowering is not null) throw new ArgumentException($"{where}: a 1x1 convolution on a 1x1 map runs as a dense product, not {lowering.Value.Name()}.", nameof(lowering));
            _dense = new DenseProduct(_weights, simd);
            Candidates = [];
            return;
        }

        Candidates = LoweringsFor(simd, m, k, win, PaddedW);
        ConvLowering chosen = lowering ?? Candidates[0];
        if (!Candidates.Contains(chosen))
            throw new ArgumentException($"{where}: {chosen.Name()} cannot run this layer at {simd} (it can: {string.Join(", ", Candidates.Select(c => c.Name()))}).", nameof(lowering));
        switch (chosen)
        {
            case ConvLowering.Pointwise:
                _pointwiseWeights = simd == SimdLevel.Vector512 ? DirectConv.Pack(w, m, k) : PointwiseGemm256.Pack(w, m, k);
                _pointwiseBias = simd == SimdLevel.Vector512 ? DirectConv.PackBias(b, m) : PointwiseGemm256.PackBias(b, m);
                _pointwiseBlock = PointwiseConv.Block(m, k, win.OH * win.OW, shared: false);
                _pointwiseSharedBlock = PointwiseConv.Block(m, k, win.OH * win.OW, shared: true);
                if (!stride1) _subsample = new SubsampleStep(this);
                break;
            case ConvLowering.Direct:
                _directTwoRows = DirectConv.TwoRows(win.OH, win.OW);
                _directSplitRow = DirectConv.SplitRow(win.OW) && win.OW != DirectConv.Width - 1;
                _directWeightsOuter = (long)m * k * sizeof(float) > Math.Min(1 << 20, BatchChunking.L2Bytes);
                _directSplitFilters = (win.SH == 2 || _directTwoRows && win.OH % 2 == 1) && (long)m * k * sizeof(float) >= BatchChunking.L2Bytes;
                _directWeights = simd == SimdLevel.Vector512 ? DirectConv.Pack(w, m, k) : DirectConv256.Pack(w, m, k);
                _directTaps = DirectConv.Taps(win.KH, win.KW, PaddedW);
                break;
            case ConvLowering.ImplicitGemm:
                _implicitOffsets = ImplicitGemm.Offsets(simd, input.C, PaddedH, PaddedW, win.KH, win.KW);
                break;
            case ConvLowering.Winograd:
                _winogradWeights = Winograd.TransformWeights(w, m, input.C);
                _winogradZeros = GC.AllocateArray<float>(_weights.Panels * PackedMatrix.MR, pinned: true);
                break;
        }
    }

    /// <summary>How the plan lowers this layer: "pointwise" (1x1, channels in the lanes over the flat plane), "direct" (channels
    /// in the lanes, row by row), "implicit-gemm" (B read in place), "im2col" (B packed panel by panel), "winograd" (3x3 at
    /// stride 1 in Winograd's transformed domain), "pooled" (the max pool
    /// after it inside, <see cref="ConvPool2x2"/>), "direct+maxpool" (direct rows pooled 3x3 at stride 2 as they are made)
    /// or "dense" (1x1 on a 1x1 map, <see cref="DenseProduct"/>).</summary>
    public string Lowering => _dense is not null ? "dense" : _pooled is not null ? "pooled" : _directPool is not null ? "direct+maxpool" : Lowered!.Value.Name();

    public int KernelHeight => _win.KH;

    public int KernelWidth => _win.KW;

    public int Groups => 1;

    public Pair Dilation => new(1, 1);

    /// <summary>A copy of the kernels, [filters, input channels, kh, kw] as PyTorch stores them (the layer keeps them packed).</summary>
    public float[] CopyWeights() => _weights.Unpack();

    /// <summary>The ReLU after this layer runs inside its GEMM.</summary>
    public bool FusedRelu { get; }

    /// <summary>A clip after this layer that its tiles apply as they store (set by the model's plan), else none.</summary>
    internal FusedActivation FusedOutput { get; private set; }

    /// <summary>Whether the activation after this layer can run in its store: direct and pointwise tiles finish in registers,
    /// where a clip costs two instructions a vector and saves the activation its own pass (or the depthwise convolution
    /// after it applying it to every value it copies). The GEMM lowerings and the pooled one fuse only a ReLU.</summary>
    internal bool CanFuseOutput => (_directWeights is not null || _pointwiseWeights is not null) && _pooled is null && !FusedRelu && FusedOutput.IsNone;

    /// <summary>Set once by the model's plan, before the model is used, when <see cref="CanFuseOutput"/>.</summary>
    internal void FuseOutput(FusedActivation act)
    {
        if (!CanFuseOutput || act.Kind != FusedActivationKind.Clamp) throw new InvalidOperationException($"{Name} ({Lowering}) cannot fuse {act}.");
        FusedOutput = act;
    }

    /// <summary>What the tiles apply as they store: nothing in a trace (which runs the fused layers on their own).</summary>
    private FusedActivation TileActivation(ParallelJob job) => job.Unfused ? FusedActivation.None : StoredActivation;

    /// <summary>What the tiles apply as they store in a pass: the fused ReLU, or a clip the plan fused.</summary>
    private FusedActivation StoredActivation => FusedRelu ? FusedActivation.Relu : FusedOutput;

    public override long Parameters => (long)_weights.M * _weights.K + (_hasBias ? _weights.M : 0);

    public override long FlopsPerImage => 2L * _weights.M * _weights.K * OutputShape.H * OutputShape.W;

    private int PaddedH => InputShape.H + _win.Top + _win.Bottom;

    private int PaddedW => InputShape.W + _win.Left + _win.Right;

    private long PaddedFloats(int batch) => _win.HasPadding ? (long)batch * InputShape.C * PaddedH * PaddedW : 0;

    /// <summary>The padded copy of the batch, for the GEMM lowerings; direct tiles pad per chunk, in the thread's own scratch.</summary>
    internal override long ScratchFloats(int batch) =>
        _pointwiseWeights is not null ? (_subsample is null ? 0 : (long)batch * InputShape.C * OutputShape.H * OutputShape.W)
        : _directWeights is null ? PaddedFloats(batch) : 0;

    /// <summary>This layer's output arrives with its zero padding already in place (the layer before writes it so).</summary>
    internal bool InputArrivesPadded { get; private set; }

    /// <summary>Floats of one image's output as this layer writes it: padded for the next layer, pooled, or plain.</summary>
    internal long OutputFloatsPerImage => _pooled is { } pooled ? pooled.Pooled.Size : _directPool is { } directPool ? directPool.Pooled.Size : _writesPaddedFor is { } next ? (long)OutputShape.C * next.PaddedH * next.PaddedW : OutputShape.Size;

    /// <summary>
    /// Plans <paramref name="next"/>, the layer after this one, to read this layer's output already padded,
    /// when this layer's direct tiles can write it so (its rows placed inside the next layer's padded plane,
    /// the border zeroed) and the next layer pads with zeros; otherwise changes nothing. Called once, by the
    /// model's plan, before the model is shared.
    /// </summary>
    internal void PlanPaddedOutputFor(Conv2D next)
    {
        if (_directWeights is null || _pooled is not null || _directPool is not null || _directTwoRows || !next._win.HasPadding || next._reflect || _writesPaddedFor is not null) return;
        _writesPaddedFor = next;
        next.InputArrivesPadded = true;
    }

    /// <summary>Whether this call must pad its input: a trace (Unfused) reads every layer's own output,
    /// so there the layer before writes it plain even when it would otherwise write it padded.</summary>
    private bool MustPad(ParallelJob job) => _win.HasPadding && !(InputArrivesPadded && !job.Unfused);

    internal override bool WholeBatchOnly => _dense is { SameAtAnyBatch: false };

    internal override void Forward(ParallelJob job, int threads)
    {
        if (_dense is not null)
        {
            job.Run(this, Parallelism.Chunks(FlopsPerImage * job.Batch, _dense.Items(job), threads), threads);
            return;
        }

        if (_pooled is not null && !job.Unfused)
        {
            ForwardPooled(_pooled, job, threads);
            return;
        }

        if (_directPool is not null && !job.Unfused)
        {
            job.Run(_directPool, Parallelism.Chunks(FlopsPerImage * job.Batch, job.Batch * _directPool.Pooled.H, threads), threads);
            return;
        }

        // Direct tiles pad their own rows (RunDirect): no pass over the whole batch, no wait for it.
        if (MustPad(job) && _directWeights is null)
        {
            long floats = PaddedFloats(job.Batch);
            job.Run(_pad, Parallelism.Chunks(floats * 8, PaddedH, threads), threads);
            job.Input = job.Scratch;
        }

        // A strided pointwise layer reads its input subsampled: gathered first, by rows as the padding copy is.
        if (_subsample is not null)
        {
            job.Run(_subsample, Parallelism.Chunks((long)job.Batch * InputShape.C * OutputShape.H * OutputShape.W * 8, _win.OH, threads), threads);
            job.Input = job.Scratch;
        }

        job.Run(this, Parallelism.Chunks(FlopsPerImage * job.Batch, Panels(job.Batch), threads), threads);
    }

    /// <summary>A pointwise layer's work units per image: one position tile of one channel tile each; with AVX2, one filter
    /// panel of one group of position blocks.</summary>
    private int PointwiseUnits => _simd == SimdLevel.Vector512
        ? PointwiseConv.Positions(OutputShape.H * OutputShape.W) * DirectConv.Tiles(OutputShape.C)
        : PointwiseGemm256.Groups(InputShape.C, OutputShape.H * OutputShape.W) * PointwiseGemm256.Panels(OutputShape.C);

    private int Panels(int batch) => _pointwiseWeights is not null ? batch * PointwiseUnits : _directWeights is not null ? batch * DirectUnits
        : _winogradWeights is not null ? (WinogradSplitsFilters(batch) ? _weights.Panels : batch * Winograd.TilesPerImage(_win.OH, _win.OW)) : _implicitOffsets is null
        ? (batch * OutputShape.H * OutputShape.W + Gemm.PanelWidth(_simd) - 1) / Gemm.PanelWidth(_simd)
        : batch * ImplicitGemm.PanelsPerImage(_simd, _win.OH, _win.OW, PaddedW, _win.KW);

    /// <summary>Whether threads split a Winograd layer's filters rather than its tiles: when the batch has fewer tiles than
    /// four GEMM panels (resnet18's 28x28 stage 49 at batch 1, its 14x14 stage 16), tiles apiece would leave each thread
    /// reading every transformed weight for a panel or less of tiles; by filters each reads its share once.</summary>
    private bool WinogradSplitsFilters(int batch) => (long)batch * Winograd.TilesPerImage(_win.OH, _win.OW) < 4 * Gemm.PanelWidth(_simd);

    void IParallelWork.RunChunk(ParallelJob job, int chunk)
    {
        if (_dense is not null)
        {
            _dense.Run(job, chunk, FusedRelu && !job.Unfused);
            return;
        }

        (int start, int end) = Parallelism.Range(Panels(job.Batch), job.Chunks, chunk);
        if (_pointwiseWeights is not null)
        {
            if (_simd == SimdLevel.Vector512) RunPointwise(job, start, end);
            else RunPointwise256(job, start, end, chunk);
            return;
        }

        if (_directWeights is not null)
        {
            RunDirect(job, start, end);
            return;
        }

        if (_winogradWeights is not null)
        {
            bool byFilters = WinogradSplitsFilters(job.Batch);
            (int t0, int t1, int p0, int p1) = byFilters ? (0, job.Batch * Winograd.TilesPerImage(_win.OH, _win.OW), start, end) : (start, end, 0, _weights.Panels);
            fixed (float* u = _winogradWeights, zeros = _winogradZeros, bias = _weights.Bias)
            {
                WinogradConv.Run(_simd, u, zeros, bias, OutputShape.C, InputShape.C, job.Input, PaddedH, PaddedW, _win.OH, _win.OW, job.Output,
                    FusedRelu && !job.Unfused, t0, t1, p0, p1, ThreadScratch.Get(WinogradConv.ScratchFloats(_simd, InputShape.C, OutputShape.C, PaddedW)));
            }

            return;
        }

        if (_implicitOffsets is not null)
        {
            fixed (nint* offsets = _implicitOffsets)
            {
                if (Gated && !job.Unfused)
                {
                    RunGated(job, offsets, start, end);
                    return;
                }

                ImplicitGemm.Run(_simd, _weights, job.Input, job.Batch, offsets, InputShape.C, PaddedH, PaddedW, _win.KW, _win.OH, _win.OW, job.Output, FusedRelu && !job.Unfused, start, end,
                    ThreadScratch.Get(ImplicitGemm.ScratchFloats(_simd, _weights)));
            }

            return;
        }

        int cols = job.Batch * OutputShape.H * OutputShape.W;
        var packer = new Im2ColPacker(job.Input, job.Batch, InputShape.C, PaddedH, PaddedW, _win.KH, _win.KW, _win.SH, _win.SW, _win.OH, _win.OW);
        Gemm.Run(_simd, _weights, packer, cols, job.Output, OutputShape.H * OutputShape.W, FusedRelu && !job.Unfused, start, end,
            ThreadScratch.Get(Gemm.ScratchFloats(_weights, _simd)));
    }

    /// <summary>Work units [start, end) of the batch, in the order image, block of position tiles, channel tile, position
    /// tile: a chunk of a small batch is a band of the plane (or, on a plane of one block, a share of the filters). Chunks
    /// split units, not blocks: a plane's last block is short (SqueezeNet's 13 tiles of 13x13 in blocks of 4, 4, 4 and 1),
    /// and blocks as items handed one core 8 of those 13 tiles and the other 5.</summary>
    private void RunPointwise(ParallelJob job, int start, int end)
    {
        int m = OutputShape.C, c = InputShape.C, p = OutputShape.H * OutputShape.W;
        int tiles = DirectConv.Tiles(m), positions = PointwiseConv.Positions(p), perImage = PointwiseUnits;
        int block = job.Chunks > 1 ? _pointwiseSharedBlock : _pointwiseBlock;
        FusedActivation act = TileActivation(job);
        float* scratch = ThreadScratch.Get(PointwiseConv.ScratchFloats);
        fixed (float* weights = _pointwiseWeights, bias = _pointwiseBias)
        {
            for (int unit = start; unit < end;)
            {
                // Block b holds position tiles [x0, x0 + size) for every channel tile: x0 * tiles units come before it.
                int n = unit / perImage, rest = unit - n * perImage;
                int x0 = rest / (block * tiles) * block, size = Math.Min(block, positions - x0);
                int inBlock = rest - x0 * tiles, tile = inBlock / size, x = x0 + inBlock % size;
                int x1 = Math.Min(x0 + size, x + (end - unit));
                PointwiseConv.Run(weights, bias, job.Input + (nint)n * c * p, c, p, job.Output + (nint)n * m * p, m, act, tile, tile + 1, x, x1, scratch);
                unit += x1 - x;
            }
        }
    }

    /// <summary>Work units [start, end) of the batch with AVX2 (<see cref="PointwiseGemm256"/>), in the order image, group of
    /// position blocks, filter panel: two threads on one image split its filters, each packing the group's positions itself.
    /// A single image split among threads gives each its share of every group's panels (<paramref name="chunk"/> of
    /// job.Chunks), since groups differ in size: SqueezeNet's 13x13 layers' 22 blocks go in groups of 10, 10 and 2 (384
    /// channels) or 8, 8 and 6 (512), and by units one thread took 30 block-panels of 44 and the other 14 (1.2 to 1 on the
    /// classifier).</summary>
    private void RunPointwise256(ParallelJob job, int start, int end, int chunk)
    {
        int m = OutputShape.C, c = InputShape.C, p = OutputShape.H * OutputShape.W;
        int panels = PointwiseGemm256.Panels(m), group = PointwiseGemm256.Group(c, p), blocks = PointwiseGemm256.Blocks(p), perImage = PointwiseUnits;
        FusedActivation act = TileActivation(job);
        float* scratch = ThreadScratch.Get(PointwiseGemm256.ScratchFloats(c, p));
        fixed (float* weights = _pointwiseWeights, bias = _pointwiseBias)
        {
            if (job.Batch == 1 && job.Chunks > 1 && panels >= job.Chunks)
            {
                (int panel0, int panel1) = Parallelism.Range(panels, job.Chunks, chunk);
                for (int b0 = 0; b0 < blocks && panel0 < panel1; b0 += group)
                {
                    PointwiseGemm256.Run(weights, bias, job.Input, p, c, p, job.Output, p, m, act, panel0, panel1, b0, Math.Min(blocks, b0 + group), scratch);
                }

                return;
            }

            for (int unit = start; unit < end;)
            {
                int n = unit / perImage, rest = unit - n * perImage, g = rest / panels, panel = rest - g * panels;
                int panel1 = Math.Min(panels, panel + (end - unit));
                PointwiseGemm256.Run(weights, bias, job.Input + (nint)n * c * p, p, c, p, job.Output + (nint)n * m * p, p, m, act, panel, panel1,
                    g * group, Math.Min(blocks, (g + 1) * group), scratch);
                unit += panel1 - panel;
            }
        }
    }

    /// <summary>Direct work items per image: output rows, or pairs of rows of 7.</summary>
    private int DirectItems => _directTwoRows ? (_win.OH + 1) / 2 : _win.OH;

    /// <summary>Direct work units per image: its filter tiles when the threads split filters; its items when each chunk sweeps
    /// a tile's weights across all its rows (<see cref="_directWeightsOuter"/>); else each item's filter tiles, so that a
    /// chunk may end mid-row and threads split an odd count of rows evenly (SqueezeNet's 13, 27 and 55: by rows, one
    /// thread took 7 of 13, and the other waited for it).</summary>
    private int DirectUnits => _directSplitFilters ? DirectConv.Tiles(OutputShape.C) : DirectRowTiles ? DirectItems * DirectConv.Tiles(OutputShape.C) : DirectItems;

    /// <summary>Whether a direct unit is one filter tile of one item (see <see cref="DirectUnits"/>).</summary>
    private bool DirectRowTiles => !_directSplitFilters && !_directWeightsOuter;

    /// <summary>The first output row of direct item <paramref name="item"/> of an image: row 2 * item for pairs of rows of 7
    /// (an odd OH's last item is its last row alone, a half tile).</summary>
    private int DirectRow(int item) => _directTwoRows ? 2 * item : item;

    /// <summary>Units [start, end) of the batch (<see cref="DirectUnits"/>: image r / units and its unit r % units) by
    /// <see cref="DirectConv"/> tiles: every 32 channels, 14 positions at a time along a row (the last tile of a
    /// row moved back to end at OW: it recomputes a few positions rather than read or write past the row), or two
    /// rows of 7. Unless the layer before wrote the input padded, the chunk first pads the input rows its outputs
    /// read into its own scratch.</summary>
    private void RunDirect(ParallelJob job, int start, int end)
    {
        int m = OutputShape.C, k = _weights.K, oh = _win.OH, ow = _win.OW, wp = PaddedW, sh = _win.SH, sw = _win.SW;
        int items = DirectItems, rowsPerItem = _directTwoRows ? 2 : 1;
        TensorShape inShape = InputShape;
        FusedActivation act = TileActivation(job);
        bool padHere = MustPad(job);

        // The output plane: plain OH x OW, or the next layer's padded plane with these rows inside it.
        Conv2D? next = job.Unfused ? null : _writesPaddedFor;
        int outW = next?.PaddedW ?? ow, top = next?._win.Top ?? 0, left = next?._win.Left ?? 0;
        nint outPlane = next is null ? (nint)oh * ow : (nint)next.PaddedH * next.PaddedW;

        // Positions 7-13 of a tile: further along the row, one output row down (rows of 7), or from OW - 7 (rows of 12 or 13).
        nint second = _directTwoRows ? (nint)sh * wp : _directSplitRow ? (nint)(ow - 7) * sw : 7 * sw;
        const int KernelFloats = DirectConv256.ScratchFloats; // DirectConv's 16 x 32 fits too
        const int TileFloats = KernelFloats + DirectConv.Channels * DirectConv.Width; // the kernel's, then a split row's tile
        int allTiles = DirectConv.Tiles(m), perImage = DirectUnits;
        bool rowTiles = DirectRowTiles;
        int spanItems = _directSplitFilters ? items : rowTiles ? Math.Min(items, (end - start + allTiles - 1) / allTiles + 1) : end - start;
        int maxBandRows = (Math.Min(oh, spanItems * rowsPerItem) - 1) * sh + _win.KH;
        float* scratch = ThreadScratch.Get(TileFloats + (padHere ? (long)inShape.C * maxBandRows * wp : 0));
        float* splitTile = scratch + KernelFloats;
        fixed (float* weights = _directWeights, bias = _weights.Bias) // pinned, zeros without a bias
        fixed (nint* taps = _directTaps)
        {
            for (int unit = start; unit < end;)
            {
                // Items [i0, i1) of image n, output rows [y0, y1), filter tiles [t0, t1): one image's part of the chunk
                // (a band of its rows for every filter, or every row for a share of the filters). With row tiles the
                // first item starts at tile first and the last ends before tile last.
                int n = unit / perImage, u0 = unit - n * perImage, u1 = Math.Min(perImage, u0 + end - unit);
                (int i0, int i1, int t0, int t1) = _directSplitFilters ? (0, items, u0, u1)
                    : rowTiles ? (u0 / allTiles, (u1 - 1) / allTiles + 1, 0, allTiles) : (u0, u1, 0, allTiles);
                int first = rowTiles ? u0 % allTiles : t0, last = rowTiles ? (u1 - 1) % allTiles + 1 : t1;
                int y0 = DirectRow(i0), y1 = Math.Min(DirectRow(i1 - 1) + rowsPerItem, oh);
                nint plane;
                float* input;
                if (padHere)
                {
                    int bandStart = y0 * sh, bandRows = (y1 - 1 - y0) * sh + _win.KH;
                    plane = (nint)bandRows * wp;
                    float* band = scratch + TileFloats;
                    Pad.Band(job.Input + (nint)n * inShape.Size, band, plane, inShape.C, inShape.H, inShape.W, _win.Top, _win.Bottom, _win.Left, _win.Right, _reflect, bandStart, bandStart + bandRows);
                    input = band - (nint)bandStart * wp; // padded row y of channel c is at input + c * plane + y * Wp
                }
                else
                {
                    plane = (nint)PaddedH * wp;
                    input = job.Input + n * inShape.C * plane;
                }

                // Rows outer, filters inner, unless the weights outgrow L2 (ResNet's 3x3 256 and 512: 2.4 and 9.4 MB):
                // then each tile of 32 filters' weights is swept across all the rows first, read once per segment, not per row.
                float* image = job.Output + (nint)n * m * outPlane;
                int tiles = t1 - t0, rows = i1 - i0;
                int outer = _directWeightsOuter ? tiles : rows, inner = _directWeightsOuter ? rows : tiles;
                for (int a = 0; a < outer; a++)
                {
                    for (int b = 0; b < inner; b++)
                    {
                        int i = i0 + (_directWeightsOuter ? b : a), tile = t0 + (_directWeightsOuter ? a : b), c0 = DirectConv.Channels * tile;
                        bool one = m - c0 == 16; // a last tile of 16 filters: one vector (MobileNet V3's 16-filter stem)
                        if (i == i0 && tile < first || i == i1 - 1 && tile >= last) continue; // a chunk's first or last item is partly another's
                        int y = DirectRow(i);
                        // The next layer's border around this row's channels, beside the tiles that write the row.
                        if (next is not null) ZeroBorder(next, image, outPlane, y, c0, Math.Min(m, c0 + DirectConv.Channels));
                        float* inRow = input + (nint)y * sh * wp;
                        float* output = image + (nint)(y + top) * outW + left + c0 * outPlane;
                        float* w = weights + (nint)c0 * k;
                        if (_directTwoRows)
                        {
                            // Rows y and y + 1 of 7 are 14 consecutive outputs of the plain plane; an odd OH's last row is
                            // half a tile (ResNet's 7x7 stage: a pair moved back over row 5 computed 8 rows for 7).
                            if (y + 1 < oh) Tile<WholeTile>(one, w, bias + c0, inRow, second, taps, inShape.C, plane, output, outPlane, act, scratch, sw);
                            else Tile<HalfTile>(one, w, bias + c0, inRow, second, taps, inShape.C, plane, output, outPlane, act, scratch, sw);
                            continue;
                        }

                        if (_directSplitRow)
                        {
                            // Positions 7-13 start at OW - 7: the tile goes to scratch, and its halves into the row.
                            Tile<WholeTile>(one, w, bias + c0, inRow, second, taps, inShape.C, plane, splitTile, DirectConv.Width, act, scratch, sw);
                            for (int r = 0, filters = Math.Min(DirectConv.Channels, m - c0); r < filters; r++)
                            {
                                float* from = splitTile + r * DirectConv.Width, to = output + r * outPlane;
                                new ReadOnlySpan<float>(from, 7).CopyTo(new Span<float>(to, 7));
                                new ReadOnlySpan<float>(from + 7, 7).CopyTo(new Span<float>(to + ow - 7, 7));
                            }

                            continue;
                        }

                        DirectRow(one, w, bias + c0, inRow, second, taps, inShape.C, plane, output, outPlane, act, scratch);
                    }
                }

                unit += u1 - u0;
            }
        }
    }

    /// <summary>One output row of 32 filters (16: <paramref name="one"/>) along the row, 14 positions a tile: a last stretch of 13
    /// (rows of 13, 27, 55, 111) takes a tile of 13; a shorter one moves the tile back.</summary>
    private void DirectRow(bool one, float* w, float* bias, float* inRow, nint second, nint* taps, int channels, nint plane, float* output, nint outPlane, in FusedActivation act, float* scratch)
    {
        int ow = _win.OW, sw = _win.SW;
        for (int x = 0; x < ow; x += DirectConv.Width)
        {
            if (ow - x == DirectConv.Width - 1)
            {
                Tile<Tile13>(one, w, bias, inRow + (nint)x * sw, second, taps, channels, plane, output + x, outPlane, act, scratch, sw);
                break;
            }

            int x0 = Math.Min(x, ow - DirectConv.Width);
            Tile<WholeTile>(one, w, bias, inRow + (nint)x0 * sw, second, taps, channels, plane, output + x0, outPlane, act, scratch, sw);
        }
    }

    private void Tile<TWidth>(bool one, float* w, float* bias, float* input, nint second, nint* taps, int channels, nint plane, float* output, nint p,
        in FusedActivation act, float* scratch, int sw) where TWidth : struct, ITileWidth
    {
        if (_simd == SimdLevel.Vector512) DirectConv.Tile<TWidth>(one, sw, w, bias, input, second, taps, _directTaps.Length, channels, plane, output, p, act, scratch);
        else DirectConv256.Tile<TWidth>(one, sw, w, bias, input, second, taps, _directTaps.Length, channels, plane, output, p, act, scratch);
    }

    /// <summary>Zeroes the next layer's padding around output row <paramref name="y"/> of channels [<paramref name="c0"/>,
    /// <paramref name="c1"/>): its left and right columns, and the rows above the first row or below the last.</summary>
    private void ZeroBorder(Conv2D next, float* image, nint outPlane, int y, int c0, int c1)
    {
        Window2D pad = next._win;
        int outW = next.PaddedW, ow = _win.OW;
        for (int i = c0; i < c1; i++)
        {
            float* plane = image + i * outPlane;
            float* row = plane + (nint)(y + pad.Top) * outW;
            new Span<float>(row, pad.Left).Clear();
            new Span<float>(row + pad.Left + ow, pad.Right).Clear();
            if (y == 0) new Span<float>(plane, pad.Top * outW).Clear();
            if (y == _win.OH - 1) new Span<float>(row + outW, pad.Bottom * outW).Clear();
        }
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

    /// <summary>Gathers a strided pointwise layer's input, every SH-th row and SW-th column, into scratch: chunks split rows.</summary>
    private sealed class SubsampleStep(Conv2D conv) : IParallelWork
    {
        public void RunChunk(ParallelJob job, int chunk)
        {
            TensorShape input = conv.InputShape;
            Window2D win = conv._win;
            (int start, int end) = Parallelism.Range(win.OH, job.Chunks, chunk);
            PointwiseConv.Subsample(job.Input, job.Scratch, job.Batch * input.C, input.H, input.W, win.SH, win.SW, win.OH, win.OW, start, end);
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
