using CnnService.Engine.Format;
using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>
/// A conv2d with one group per input channel (groups = C; MobileNet, EfficientNet): each input
/// channel feeds filters/C output channels (the channel multiplier, usually 1), each through its
/// own kernel. Run by <see cref="DepthwiseConv"/>, one (image, channel) plane per work item, or on small and strided
/// planes by <see cref="DepthwiseBlocked"/>, sixteen channels per work item, with
/// zero padding and bias inside the kernel, and the activations on either side fused by the model's plan:
/// the one before (ReLU6, SiLU after a 1x1 expansion) applied as the input is read, the one after
/// (ReLU, ReLU6, SiLU) as the output is stored. A 1x1 expansion before it whose output outgrows the L2 it runs itself,
/// a band of rows at a time (<see cref="Expansion"/>).
/// </summary>
public sealed unsafe partial class DepthwiseConv2D : Layer, IParallelWork, IConvolution
{
    private readonly float[] _weights;   // [C * mult][kh][kw], pinned
    private readonly float[] _bias;      // [C * mult], zeros without a bias, pinned
    private readonly float[]? _blocked;  // the weights as DepthwiseBlocked reads them, where it runs this layer
    private readonly int _parts;         // where it does, work items per group: bands of its output rows, each a plane of its own
    private readonly bool _wholeGroups;  // whether the whole plane fits it, so that a chunk's run of whole groups goes in one call
    private readonly long _blockedScratch; // floats of its scratch per thread, for the whole plane or the largest band
    private readonly bool _hasBias;
    private readonly int _multiplier;
    private readonly DepthwiseGeometry _geometry;
    private readonly SimdLevel _simd;
    private FusedActivation _pre, _post;

    internal DepthwiseConv2D(LayerSpec spec, string where, TensorShape input, IWeightSource weights, SimdLevel simd, bool fuseRelu)
        : base("conv2d", spec.Name, input, Output(spec, where, input, out Window2D win))
    {
        if (spec.PaddingMode != "zeros")
            throw new ModelFormatException($"{where}: a depthwise convolution pads with zeros, got padding_mode \"{spec.PaddingMode}\".");
        _simd = simd;
        FusedRelu = fuseRelu;
        _post = fuseRelu ? FusedActivation.Relu : FusedActivation.None;
        int m = OutputShape.C;
        _multiplier = m / input.C;
        _geometry = new DepthwiseGeometry(input.H, input.W, win.KH, win.KW, win.SH, win.SW, win.Top, win.Left, win.OH, win.OW);

        // Taken (and so checked against the file) before the pinned copies are made: a declared size is never allocated unchecked.
        float[] w = weights.Take($"{spec.Name}.weight", m, 1, win.KH, win.KW);
        _hasBias = spec.UseBias;
        float[] b = _hasBias ? weights.Take($"{spec.Name}.bias", m) : new float[m];
        _weights = GC.AllocateArray<float>(w.Length, pinned: true);
        w.CopyTo(_weights, 0);
        _bias = GC.AllocateArray<float>(m, pinned: true);
        b.CopyTo(_bias, 0);
        if (DepthwiseConv.IsBlocked(simd, _geometry, input.C, _multiplier))
        {
            // A plane that fits whole is still two work items per group, its top and bottom output rows, so that an odd count of
            // groups splits evenly between two threads (MobileNet's and EfficientNet's 144 and 240 channels: 9 and 15 groups,
            // split 4 and 5 by whole groups, the second thread 25 % longer; EfficientNet-B0 at batch 1 on two threads 0.2-0.6 %
            // faster, the same bits). A chunk's run of whole groups still goes in one kernel call.
            (_parts, _wholeGroups, _blockedScratch) = (_geometry.OH >= 2 ? 2 : 1, true, DepthwiseBlocked.ScratchFloats(simd, _geometry));
        }
        else if (simd == SimdLevel.Vector256 && LargePlaneParts(simd, _geometry, input.C, _multiplier) is (> 0 and var parts, var band))
        {
            (_parts, _wholeGroups, _blockedScratch) = (parts, false, DepthwiseBlocked.ScratchFloats(simd, band));
        }

        if (_parts > 0) _blocked = DepthwiseBlocked.Pack(simd, _weights, m, win.KH * win.KW);
    }

    /// <summary>
    /// Bands of output rows per group for a plane too large for <see cref="DepthwiseBlocked"/>'s buffer whole, each band a plane
    /// of its own that fits (the fewest, at least two), and the geometry of the largest; 0 where no band of one row fits or
    /// the blocked path would not take the plane for its shape. With AVX2 only, where it was measured: MobileNet V2's 96 x
    /// 112x112 stride-2 layer, two bands a group, at batch 1 (AMD EPYC Zen 3, against the plane-by-plane path, paired in one
    /// process): 0.564 -> 0.446 ms on one thread, 0.432 -> 0.405 on two.
    /// </summary>
    private static (int Parts, DepthwiseGeometry Band) LargePlaneParts(SimdLevel simd, in DepthwiseGeometry g, int channels, int mult)
    {
        for (int parts = 2; parts <= g.OH; parts++)
        {
            int rows = (g.OH + parts - 1) / parts;
            // A band inside the plane, no padding above or below: the most input rows a band of this many outputs reads.
            var band = new DepthwiseGeometry((rows - 1) * g.SH + g.KH, g.W, g.KH, g.KW, g.SH, g.SW, 0, g.Left, rows, g.OW);
            if (DepthwiseConv.IsBlocked(simd, band, channels, mult)) return (parts, band);
        }

        return (0, g);
    }

    /// <summary>Where <see cref="DepthwiseBlocked"/> runs this layer, the bands of output rows a group is cut into when the plane
    /// does not fit it whole; 1 where it does (or the layer runs plane by plane).</summary>
    internal int BlockedBands => _wholeGroups || _parts == 0 ? 1 : _parts;

    /// <summary>Whether <see cref="DepthwiseBlocked"/> runs this layer.</summary>
    internal bool RunsBlocked => _blocked is not null;

    public int KernelHeight => _geometry.KH;

    public int KernelWidth => _geometry.KW;

    public int Groups => InputShape.C;

    public Pair Dilation => new(1, 1);

    private protected override string NotTrainable => ConvSettings.NotTrainable(this);

    /// <summary>Output channels per input channel (filters / groups).</summary>
    public int Multiplier => _multiplier;

    public bool FusedRelu { get; }

    /// <summary>The activation of the layer before, applied here to the input as it is read (that layer runs nothing).</summary>
    internal FusedActivation FusedInput => _pre;

    /// <summary>The activation applied to the output as it is stored: a fused ReLU, or a clip or SiLU the plan fused.</summary>
    internal FusedActivation FusedOutput => _post;

    /// <summary>Set once by the model's plan, before the model is used: an activation to apply on the input and one on the output.</summary>
    internal void Fuse(FusedActivation pre, FusedActivation post)
    {
        if (!pre.IsNone) _pre = pre;
        if (!post.IsNone) _post = post;
    }

    /// <summary>[filters, 1, kh, kw], as PyTorch stores them.</summary>
    public float[] CopyWeights() => (float[])_weights.Clone();

    public override long Parameters => _weights.Length + (_hasBias ? _bias.Length : 0);

    public override long FlopsPerImage => 2L * _weights.Length * OutputShape.H * OutputShape.W;

    /// <summary>
    /// How many FLOPs of a GEMM-like layer one depthwise FLOP costs, for the split across threads: with KH*KW
    /// multiply-adds per output and a padded copy per plane it runs at about an eighth of a dense convolution's
    /// GFLOP/s. Counted at face value, MobileNet's and EfficientNet's 7x7 layers (960 or 1152 planes, 0.1-0.5 ms)
    /// stayed below two chunks' worth (of half a million FLOPs then) and ran on one thread at batch 1.
    /// </summary>
    internal const long CostPerFlop = 8;

    internal override void Forward(ParallelJob job, int threads)
    {
        if (InBands(job))
        {
            ForwardBands(job, threads);
            return;
        }

        // Where the blocked kernel runs the layer, the items are bands of its groups' output rows (halves where a plane fits whole).
        int items = _blocked is null ? job.Batch * InputShape.C : job.Batch * InputShape.C / DepthwiseBlocked.Lanes(_simd) * _parts;
        job.Run(this, Parallelism.Chunks(FlopsPerImage * job.Batch * CostPerFlop, items, threads), threads);
    }

    void IParallelWork.RunChunk(ParallelJob job, int chunk)
    {
        if (InBands(job))
        {
            RunBands(job, chunk);
            return;
        }

        DepthwiseGeometry g = _geometry;
        int c = InputShape.C, mult = _multiplier;
        nint inPlane = (nint)g.H * g.W, outPlanes = (nint)mult * g.OH * g.OW;
        // Unfused (a trace) runs the fused layers on their own: neither end applies here.
        FusedActivation pre = job.Unfused ? FusedActivation.None : _pre, post = job.Unfused ? FusedActivation.None : _post;
        if (_blocked is not null)
        {
            int L = DepthwiseBlocked.Lanes(_simd);
            int groups = c / L, parts = _parts;
            (int first, int last) = Parallelism.Range(job.Batch * groups * parts, job.Chunks, chunk);
            float* groupScratch = ThreadScratch.Get(_blockedScratch);
            fixed (float* packed = _blocked, bias = _bias)
            {
                for (int u = first; u < last;)
                {
                    // Group q counts across the batch; where a plane fits whole, from a group's first half on the whole groups the chunk holds go together.
                    int q = u / parts, whole = _wholeGroups && u % parts == 0 ? (last - u) / parts : 0;
                    if (whole > 0)
                    {
                        DepthwiseBlocked.Groups(_simd, job.Input + q * L * inPlane, inPlane, packed, bias, job.Output + q * L * outPlanes, outPlanes,
                            q % groups, groups, whole, pre, post, g, groupScratch);
                        u += whole * parts;
                        continue;
                    }

                    // A band of a group: some of its output rows, as a plane of their own geometry.
                    (int oy0, int oy1) = Parallelism.Range(g.OH, parts, u % parts);
                    DepthwiseGeometry band = BandOf(oy0, oy1, out int r0);
                    DepthwiseBlocked.Groups(_simd, job.Input + q * L * inPlane + (nint)r0 * g.W, inPlane, packed, bias, job.Output + q * L * outPlanes + (nint)oy0 * g.OW, outPlanes,
                        q % groups, groups, 1, pre, post, band, groupScratch);
                    u++;
                }
            }

            return;
        }

        (int start, int end) = Parallelism.Range(job.Batch * c, job.Chunks, chunk);
        float* scratch = _simd == SimdLevel.Scalar ? null : ThreadScratch.Get(DepthwiseConv.ScratchFloats(g));
        fixed (float* weights = _weights, bias = _bias)
        {
            // Plane n*C + ch of the input feeds output channels ch*mult .. ch*mult + mult-1 of image n: planes n*C*mult + ch*mult + j.
            DepthwiseConv.Planes(_simd, job.Input + start * inPlane, inPlane, weights, bias, mult, job.Output + start * outPlanes, outPlanes,
                start % c, c, end - start, pre, post, g, scratch);
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
