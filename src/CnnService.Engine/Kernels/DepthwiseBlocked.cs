using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnService.Engine.Kernels;

/// <summary>
/// Depthwise convolution of small planes sixteen channels at a time, the channels in the lanes (as ONNX Runtime keeps
/// such tensors in 16-channel blocks; AVX-512 only). The banded path of <see cref="DepthwiseConv"/> vectorises along a
/// row, so on a 14x14 or 7x7 map most of each vector is wasted and every plane pays its own padded copy: MobileNet's
/// 576 x 14x14 stride-2 layer ran at 5 GFLOP/s. Here a group of sixteen planes is transposed, a row at a time, into one
/// zero-padded buffer [row][column][16]; then every output is a sum of KH*KW whole-vector loads times the sixteen
/// channels' weights for that tap, at any stride, four outputs at a time; then sixteen outputs at a time are transposed
/// back into the sixteen output planes.
/// <para>Every output sums the bias, then its taps in (ky, kx) order, padding taps included as zeros: the same sums, in
/// the same order, as the banded path, so the two agree bit for bit under exact activations.</para>
/// </summary>
internal static unsafe class DepthwiseBlocked
{
    /// <summary>Channels per group: one AVX-512 vector.</summary>
    public const int Lanes = 16;

    /// <summary>Positions of the padded buffer at most: 256 KB, a quarter of a small L2, which holds a 56x56 plane's group.</summary>
    private const int MaxPositions = 4096;

    /// <summary>Output positions computed together: four independent chains of FMAs sharing each tap's weights.</summary>
    private const int Block = 4;

    /// <summary>
    /// Whether this path takes the layer: one output per channel, whole groups of channels, a buffer that fits, and a plane
    /// the banded path handles worse: any stride above 1, or rows of at most 16. Measured per layer on one thread against
    /// the banded path (AMD EPYC Zen 5, ms at batch 1): 3x3 stride 2 576 x 14x14 0.087 -> 0.019, 192 x 28x28 0.056 ->
    /// 0.020, 144 x 56x56 0.074 -> 0.067; 5x5 stride 2 672 x 14x14 0.133 -> 0.038; stride 1 on 14x14 3x3 0.054 -> 0.040,
    /// 5x5 0.14 -> 0.10; but stride 1 on 28x28 no faster (3x3 0.043 -> 0.049, 5x5 0.142 -> 0.142-0.175).
    /// </summary>
    public static bool Applies(in DepthwiseGeometry g, int channels, int mult) =>
        Avx512F.IsSupported && mult == 1 && channels % Lanes == 0 && (long)g.ReadHeight * Stride(g) <= MaxPositions
        && (g.SH > 1 || g.SW > 1 || g.W <= Lanes);

    /// <summary>Positions per buffer row: the padded columns read, and at least the left padding plus whole 16-column
    /// transposes, whose columns past the input row (zeros) land in the row's right part.</summary>
    private static int Stride(in DepthwiseGeometry g) => Math.Max(g.ReadWidth, g.Left + (g.W + Lanes - 1) / Lanes * Lanes);

    /// <summary>Floats of per-thread scratch: the padded buffer, the outputs (whole transposes) and alignment.</summary>
    public static long ScratchFloats(in DepthwiseGeometry g) =>
        ((long)g.ReadHeight * Stride(g) + ((long)g.OH * g.OW + Lanes - 1) / Lanes * Lanes) * Lanes + Lanes;

    /// <summary>Weights [C][KH*KW] (one filter per channel) as [C/16][KH*KW][16]: a tap's sixteen weights are one vector.</summary>
    public static float[] Pack(ReadOnlySpan<float> weights, int channels, int taps)
    {
        float[] packed = GC.AllocateArray<float>(channels * taps, pinned: true);
        for (int c = 0; c < channels; c++)
            for (int t = 0; t < taps; t++)
                packed[(c / Lanes * taps + t) * Lanes + c % Lanes] = weights[c * taps + t];
        return packed;
    }

    /// <summary>
    /// Groups k = 0 .. groups-1 of sixteen planes: planes input + (16k + j) * inPlane [H][W] into output + (16k + j) *
    /// outPlane [OH][OW], j = 0..15, through the weights of channel group (firstGroup + k) % (channels / 16) of
    /// <paramref name="packed"/> (<see cref="Pack"/>) and <paramref name="bias"/> [C]; <paramref name="pre"/> on every input
    /// value read (the padding stays zero), <paramref name="post"/> on every output stored.
    /// </summary>
    public static void Groups(float* input, nint inPlane, float* packed, float* bias, float* output, nint outPlane,
        int firstGroup, int channelGroups, int groups, in FusedActivation pre, in FusedActivation post, in DepthwiseGeometry g, float* scratch)
    {
        var kernel = new Kernel(new RunArgs(input, inPlane, packed, bias, output, outPlane, firstGroup, channelGroups, groups, scratch), g);
        FusedActivations.Run(pre, post, ref kernel);
    }

    /// <summary>The run's pointers and counts.</summary>
    private readonly struct RunArgs(float* input, nint inPlane, float* packed, float* bias, float* output, nint outPlane,
        int firstGroup, int channelGroups, int groups, float* scratch)
    {
        public readonly float* Input = input, Packed = packed, Bias = bias, Output = output, Scratch = scratch;
        public readonly nint InPlane = inPlane, OutPlane = outPlane;
        public readonly int FirstGroup = firstGroup, ChannelGroups = channelGroups, Count = groups;
    }

    private readonly struct Kernel(RunArgs run, DepthwiseGeometry g) : IFusedKernel
    {
        public void Run<TIn, TOut>(in TIn pre, in TOut post)
            where TIn : struct, IUnaryOperator
            where TOut : struct, IUnaryOperator => DepthwiseBlocked.Run(pre, post, run, g);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TIn, TOut>(in TIn pre, in TOut post, in RunArgs run, in DepthwiseGeometry g)
        where TIn : struct, IUnaryOperator
        where TOut : struct, IUnaryOperator
    {
        int stride = Stride(g), rows = g.ReadHeight, taps = g.KH * g.KW, outputs = g.OH * g.OW;
        float* buffer = (float*)(((nint)run.Scratch + 63) & ~(nint)63);
        float* staged = buffer + (nint)rows * stride * Lanes;

        // Tap (ky, kx) of output (oy, ox) reads buffer position (oy*SH + ky, ox*SW + kx).
        nint* offsets = stackalloc nint[taps];
        for (int ky = 0; ky < g.KH; ky++)
            for (int kx = 0; kx < g.KW; kx++)
                offsets[ky * g.KW + kx] = ((nint)ky * stride + kx) * Lanes;

        // The padding rows and the left padding are never written by a group: zeroed once per run.
        new Span<float>(buffer, rows * stride * Lanes).Clear();

        for (int k = 0; k < run.Count; k++)
        {
            int group = (run.FirstGroup + k) % run.ChannelGroups;
            Gather(pre, run.Input + (nint)k * Lanes * run.InPlane, run.InPlane, buffer, stride, g);
            float* w = run.Packed + (nint)group * taps * Lanes;
            Vector512<float> b = Vector512.Load(run.Bias + group * Lanes);
            for (int oy = 0; oy < g.OH; oy++)
            {
                float* row = buffer + (nint)oy * g.SH * stride * Lanes, o = staged + (nint)oy * g.OW * Lanes;
                int ox = 0;
                for (; ox + Block <= g.OW; ox += Block)
                    Four(post, row + (nint)ox * g.SW * Lanes, g.SW * Lanes, offsets, taps, w, b, o + ox * Lanes);
                for (; ox < g.OW; ox++) One(post, row + (nint)ox * g.SW * Lanes, offsets, taps, w, b, o + ox * Lanes);
            }

            Scatter(staged, run.Output + (nint)k * Lanes * run.OutPlane, run.OutPlane, outputs);
        }
    }

    /// <summary>
    /// Sixteen planes into the buffer, transposed: input row y of every plane, sixteen columns at a time (loaded masked at
    /// the row's end, activated), becomes buffer row Top + y from column Left. A transpose's columns past the input row
    /// are zeros, so they leave the right padding as it was; columns and rows no group writes stay as the run zeroed them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Gather<TIn>(in TIn pre, float* input, nint inPlane, float* buffer, int stride, in DepthwiseGeometry g)
        where TIn : struct, IUnaryOperator
    {
        int w = g.W, rowsRead = Math.Min(g.H, g.ReadHeight - g.Top);
        for (int y = Math.Max(0, -g.Top); y < rowsRead; y++)
        {
            float* dst = buffer + ((nint)(y + g.Top) * stride + g.Left) * Lanes;
            for (int x = 0; x < w; x += Lanes)
            {
                Vector512<float> m = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(w - x)).AsSingle();
                float* src = input + (nint)y * w + x;
                Transpose16.Store(
                    Row(pre, src, m), Row(pre, src + inPlane, m), Row(pre, src + 2 * inPlane, m), Row(pre, src + 3 * inPlane, m),
                    Row(pre, src + 4 * inPlane, m), Row(pre, src + 5 * inPlane, m), Row(pre, src + 6 * inPlane, m), Row(pre, src + 7 * inPlane, m),
                    Row(pre, src + 8 * inPlane, m), Row(pre, src + 9 * inPlane, m), Row(pre, src + 10 * inPlane, m), Row(pre, src + 11 * inPlane, m),
                    Row(pre, src + 12 * inPlane, m), Row(pre, src + 13 * inPlane, m), Row(pre, src + 14 * inPlane, m), Row(pre, src + 15 * inPlane, m),
                    dst + (nint)x * Lanes, Lanes, Vector512<float>.AllBitsSet);
            }
        }
    }

    /// <summary>Sixteen columns of one plane's row, zero past the row (activated zeros would not stay zero under every activation).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Row<TIn>(in TIn pre, float* src, Vector512<float> mask)
        where TIn : struct, IUnaryOperator
    {
        Vector512<float> x = Avx512F.MaskLoad(src, mask, Vector512<float>.Zero);
        return typeof(TIn) == typeof(IdentityOperator) ? x : pre.Invoke(x) & mask;
    }

    /// <summary>Four neighbouring outputs (<paramref name="step"/> floats apart in the buffer): each tap one weight vector, four loads, four FMAs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Four<TOut>(in TOut post, float* at, nint step, nint* offsets, int taps, float* w, Vector512<float> bias, float* o)
        where TOut : struct, IUnaryOperator
    {
        Vector512<float> a0 = bias, a1 = bias, a2 = bias, a3 = bias;
        for (int t = 0; t < taps; t++)
        {
            Vector512<float> wt = Vector512.Load(w + t * Lanes);
            float* p = at + offsets[t];
            a0 = Vector512.FusedMultiplyAdd(Vector512.Load(p), wt, a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Load(p + step), wt, a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 2 * step), wt, a2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 3 * step), wt, a3);
        }

        post.Invoke(a0).Store(o);
        post.Invoke(a1).Store(o + Lanes);
        post.Invoke(a2).Store(o + 2 * Lanes);
        post.Invoke(a3).Store(o + 3 * Lanes);
    }

    /// <summary>One output: a row's last outputs when OW is not a multiple of four.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void One<TOut>(in TOut post, float* at, nint* offsets, int taps, float* w, Vector512<float> bias, float* o)
        where TOut : struct, IUnaryOperator
    {
        Vector512<float> a = bias;
        for (int t = 0; t < taps; t++) a = Vector512.FusedMultiplyAdd(Vector512.Load(at + offsets[t]), Vector512.Load(w + t * Lanes), a);
        post.Invoke(a).Store(o);
    }

    /// <summary>The staged outputs [position][16] into the sixteen output planes, sixteen positions at a time (the last masked).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scatter(float* staged, float* output, nint outPlane, int outputs)
    {
        for (int p = 0; p < outputs; p += Lanes)
        {
            Vector512<float> mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(outputs - p)).AsSingle();
            Transpose16.Store(staged + (nint)p * Lanes, Lanes, output + p, outPlane, mask);
        }
    }
}
