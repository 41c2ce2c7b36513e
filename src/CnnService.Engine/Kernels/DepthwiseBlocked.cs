using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Kernels;

/// <summary>
/// Depthwise convolution of small planes a block of channels at a time, the channels in the lanes (as ONNX Runtime keeps
/// such tensors in 16-channel blocks with AVX-512, 8-channel ones with AVX2). The banded path of <see cref="DepthwiseConv"/>
/// vectorises along a row, so on a 14x14 or 7x7 map most of each vector is wasted and every plane pays its own padded copy:
/// MobileNet's 576 x 14x14 stride-2 layer ran at 5 GFLOP/s. Here a group of 16 (AVX-512) or 8 (AVX2) planes is transposed, a
/// row at a time, into one zero-padded buffer [row][column][lanes]; then every output is a sum of KH*KW whole-vector loads
/// times the group's weights for that tap, at any stride, four outputs at a time; then the outputs are transposed back
/// into the group's output planes (<see cref="IChannelBlockLanes{TV}"/>).
/// <para>Every output sums the bias, then its taps in (ky, kx) order, padding taps included as zeros: the same sums, in
/// the same order, as the banded path, so the two agree bit for bit under exact activations.</para>
/// </summary>
internal static unsafe class DepthwiseBlocked
{
    /// <summary>Floats of the padded buffer at most: 256 KB, a quarter of a small L2, which holds a 56x56 plane's group of 16.</summary>
    private const int MaxFloats = 64 << 10;

    /// <summary>Output positions computed together: four independent chains of FMAs sharing each tap's weights.</summary>
    private const int Block = 4;

    /// <summary>Channels per group at <paramref name="level"/>: one vector (16 with AVX-512, 8 with AVX2).</summary>
    public static int Lanes(SimdLevel level) => level == SimdLevel.Vector512 ? 16 : 8;

    /// <summary>
    /// Whether this path takes the layer at <paramref name="level"/> (Vector512 or Vector256): one output per channel, whole
    /// groups of channels, a buffer that fits, and a plane the banded path handles worse: any stride above 1, or rows of at
    /// most 16. Measured per layer on one thread against the banded path (AMD EPYC Zen 5, ms at batch 1): 3x3 stride 2
    /// 576 x 14x14 0.087 -> 0.019, 192 x 28x28 0.056 -> 0.020, 144 x 56x56 0.074 -> 0.067; 5x5 stride 2 672 x 14x14 0.133 ->
    /// 0.038; stride 1 on 14x14 3x3 0.054 -> 0.040, 5x5 0.14 -> 0.10; but stride 1 on 28x28 no faster (3x3 0.043 -> 0.049,
    /// 5x5 0.142 -> 0.142-0.175). With AVX2, groups of 8 (AMD EPYC Zen 3, MobileNet V2's layers, one thread, `cnn bench
    /// --per-layer`): 3x3 stride 2 576 x 14x14 0.152 -> 0.046, 192 x 28x28 0.163 -> 0.053, 144 x 56x56 0.293 -> 0.146; stride 1
    /// 960 x 7x7 0.108 -> 0.052, 384 x 14x14 0.082 -> 0.066; the network 82 -> 90 images/s. Stride 1 on 28x28 and 56x56 was
    /// slower there too (0.11 -> 0.19, 0.34 -> 0.55 ms).
    /// </summary>
    public static bool Applies(SimdLevel level, in DepthwiseGeometry g, int channels, int mult)
    {
        bool runs = level == SimdLevel.Vector512 ? Avx512F.IsSupported : level == SimdLevel.Vector256 && Avx2.IsSupported && Fma.IsSupported;
        int lanes = Lanes(level);
        return runs && mult == 1 && channels % lanes == 0 && (long)g.ReadHeight * Stride(g, lanes) * lanes <= MaxFloats
            && (g.SH > 1 || g.SW > 1 || g.W <= 16);
    }

    /// <summary>Positions per buffer row: the padded columns read, and at least the left padding plus whole transposes'
    /// columns, whose columns past the input row (zeros) land in the row's right part.</summary>
    private static int Stride(in DepthwiseGeometry g, int lanes) => Math.Max(g.ReadWidth, g.Left + (g.W + lanes - 1) / lanes * lanes);

    /// <summary>Floats of per-thread scratch: the padded buffer, the outputs (whole transposes) and alignment.</summary>
    public static long ScratchFloats(SimdLevel level, in DepthwiseGeometry g)
    {
        int lanes = Lanes(level);
        return ((long)g.ReadHeight * Stride(g, lanes) + ((long)g.OH * g.OW + lanes - 1) / lanes * lanes) * lanes + 16;
    }

    /// <summary>Weights [C][KH*KW] (one filter per channel) as [C/lanes][KH*KW][lanes]: a tap's group weights are one vector.</summary>
    public static float[] Pack(SimdLevel level, ReadOnlySpan<float> weights, int channels, int taps)
    {
        int lanes = Lanes(level);
        float[] packed = GC.AllocateArray<float>(channels * taps, pinned: true);
        for (int c = 0; c < channels; c++)
            for (int t = 0; t < taps; t++)
                packed[(c / lanes * taps + t) * lanes + c % lanes] = weights[c * taps + t];
        return packed;
    }

    /// <summary>
    /// Groups k = 0 .. groups-1 of <see cref="Lanes"/> planes: planes input + (L*k + j) * inPlane [H][W] into output + (L*k + j) *
    /// outPlane [OH][OW], j below L, through the weights of channel group (firstGroup + k) % (channels / L) of
    /// <paramref name="packed"/> (<see cref="Pack"/>) and <paramref name="bias"/> [C]; <paramref name="pre"/> on every input
    /// value read (the padding stays zero), <paramref name="post"/> on every output stored.
    /// </summary>
    public static void Groups(SimdLevel level, float* input, nint inPlane, float* packed, float* bias, float* output, nint outPlane,
        int firstGroup, int channelGroups, int groups, in FusedActivation pre, in FusedActivation post, in DepthwiseGeometry g, float* scratch)
    {
        var kernel = new Kernel(level, new RunArgs(input, inPlane, packed, bias, output, outPlane, firstGroup, channelGroups, groups, scratch), g);
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

    private readonly struct Kernel(SimdLevel level, RunArgs run, DepthwiseGeometry g) : IFusedKernel
    {
        public void Run<TIn, TOut>(in TIn pre, in TOut post)
            where TIn : struct, IUnaryOperator
            where TOut : struct, IUnaryOperator
        {
            if (level == SimdLevel.Vector512) DepthwiseBlocked.Run<Lanes512, Vector512<float>, TIn, TOut>(pre, post, run, g);
            else DepthwiseBlocked.Run<Lanes256, Vector256<float>, TIn, TOut>(pre, post, run, g);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TL, TV, TIn, TOut>(in TIn pre, in TOut post, in RunArgs run, in DepthwiseGeometry g)
        where TL : struct, IChannelBlockLanes<TV>
        where TV : struct
        where TIn : struct, IUnaryOperator
        where TOut : struct, IUnaryOperator
    {
        int lanes = TL.Count, stride = Stride(g, lanes), rows = g.ReadHeight, taps = g.KH * g.KW, outputs = g.OH * g.OW;
        float* buffer = (float*)(((nint)run.Scratch + 63) & ~(nint)63);
        float* staged = buffer + (nint)rows * stride * lanes;

        // Tap (ky, kx) of output (oy, ox) reads buffer position (oy*SH + ky, ox*SW + kx).
        nint* offsets = stackalloc nint[taps];
        for (int ky = 0; ky < g.KH; ky++)
            for (int kx = 0; kx < g.KW; kx++)
                offsets[ky * g.KW + kx] = ((nint)ky * stride + kx) * lanes;

        // The padding rows and the left padding are never written by a group: zeroed once per run.
        new Span<float>(buffer, rows * stride * lanes).Clear();

        SimdLevel level = lanes == 16 ? SimdLevel.Vector512 : SimdLevel.Vector256;
        for (int k = 0; k < run.Count; k++)
        {
            int group = (run.FirstGroup + k) % run.ChannelGroups;
            float* input = run.Input + (nint)k * lanes * run.InPlane;
            if (TIn.OwnPass)
            {
                Gather<TL, TV, IdentityOperator>(default, input, run.InPlane, buffer, stride, g);
                ActivateRows(pre, buffer, stride, g, level);
            }
            else Gather<TL, TV, TIn>(pre, input, run.InPlane, buffer, stride, g);

            float* w = run.Packed + (nint)group * taps * lanes;
            TV b = TL.Load(run.Bias + group * lanes);
            if (TOut.OwnPass)
            {
                Outputs<TL, TV, IdentityOperator>(default, buffer, stride, offsets, w, b, staged, g);
                UnaryDriver.Apply(post, staged, staged, (nint)outputs * lanes, level);
            }
            else Outputs<TL, TV, TOut>(post, buffer, stride, offsets, w, b, staged, g);

            float* output = run.Output + (nint)k * lanes * run.OutPlane;
            for (int p = 0; p < outputs; p += lanes) TL.ScatterColumns(staged + (nint)p * lanes, output + p, run.OutPlane, Math.Min(lanes, outputs - p));
        }
    }

    /// <summary>
    /// The group's planes into the buffer, transposed: input row y of every plane, a vector's width of columns at a time (the
    /// row's end loaded masked, activated), becomes buffer row Top + y from column Left. A transpose's columns past the input
    /// row are zeros, so they leave the right padding as it was; columns and rows no group writes stay as the run zeroed them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Gather<TL, TV, TIn>(in TIn pre, float* input, nint inPlane, float* buffer, int stride, in DepthwiseGeometry g)
        where TL : struct, IChannelBlockLanes<TV>
        where TV : struct
        where TIn : struct, IUnaryOperator
    {
        int w = g.W, lanes = TL.Count, rowsRead = Math.Min(g.H, g.ReadHeight - g.Top);
        for (int y = Math.Max(0, -g.Top); y < rowsRead; y++)
        {
            float* dst = buffer + ((nint)(y + g.Top) * stride + g.Left) * lanes;
            for (int x = 0; x < w; x += lanes) TL.GatherColumns(pre, input + (nint)y * w + x, inPlane, Math.Min(lanes, w - x), dst + (nint)x * lanes);
        }
    }

    /// <summary>Every output of the group from the padded buffer into <paramref name="staged"/> ([position][lanes]), <paramref name="post"/> applied.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Outputs<TL, TV, TOut>(in TOut post, float* buffer, int stride, nint* offsets, float* w, TV b, float* staged, in DepthwiseGeometry g)
        where TL : struct, IChannelBlockLanes<TV>
        where TV : struct
        where TOut : struct, IUnaryOperator
    {
        int lanes = TL.Count, taps = g.KH * g.KW;
        for (int oy = 0; oy < g.OH; oy++)
        {
            float* row = buffer + (nint)oy * g.SH * stride * lanes, o = staged + (nint)oy * g.OW * lanes;
            int ox = 0;
            for (; ox + Block <= g.OW; ox += Block)
                Four<TL, TV, TOut>(post, row + (nint)ox * g.SW * lanes, g.SW * lanes, offsets, taps, w, b, o + ox * lanes);
            for (; ox < g.OW; ox++) One<TL, TV, TOut>(post, row + (nint)ox * g.SW * lanes, offsets, taps, w, b, o + ox * lanes);
        }
    }

    /// <summary><paramref name="pre"/> over the input values <see cref="Gather"/> wrote (each row's W positions; the padding stays zero).</summary>
    private static void ActivateRows<TIn>(in TIn pre, float* buffer, int stride, in DepthwiseGeometry g, SimdLevel level) where TIn : struct, IUnaryOperator
    {
        int lanes = Lanes(level), rowsRead = Math.Min(g.H, g.ReadHeight - g.Top);
        for (int y = Math.Max(0, -g.Top); y < rowsRead; y++)
        {
            float* row = buffer + ((nint)(y + g.Top) * stride + g.Left) * lanes;
            UnaryDriver.Apply(pre, row, row, (nint)g.W * lanes, level);
        }
    }

    /// <summary>Four neighbouring outputs (<paramref name="step"/> floats apart in the buffer): each tap one weight vector, four loads, four FMAs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Four<TL, TV, TOut>(in TOut post, float* at, nint step, nint* offsets, int taps, float* w, TV bias, float* o)
        where TL : struct, IChannelBlockLanes<TV>
        where TV : struct
        where TOut : struct, IUnaryOperator
    {
        int lanes = TL.Count;
        TV a0 = bias, a1 = bias, a2 = bias, a3 = bias;
        for (int t = 0; t < taps; t++)
        {
            TV wt = TL.Load(w + t * lanes);
            float* p = at + offsets[t];
            a0 = TL.MulAdd(TL.Load(p), wt, a0);
            a1 = TL.MulAdd(TL.Load(p + step), wt, a1);
            a2 = TL.MulAdd(TL.Load(p + 2 * step), wt, a2);
            a3 = TL.MulAdd(TL.Load(p + 3 * step), wt, a3);
        }

        TL.Store(o, TL.Apply(post, a0));
        TL.Store(o + lanes, TL.Apply(post, a1));
        TL.Store(o + 2 * lanes, TL.Apply(post, a2));
        TL.Store(o + 3 * lanes, TL.Apply(post, a3));
    }

    /// <summary>One output: a row's last outputs when OW is not a multiple of four.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void One<TL, TV, TOut>(in TOut post, float* at, nint* offsets, int taps, float* w, TV bias, float* o)
        where TL : struct, IChannelBlockLanes<TV>
        where TV : struct
        where TOut : struct, IUnaryOperator
    {
        TV a = bias;
        for (int t = 0; t < taps; t++) a = TL.MulAdd(TL.Load(at + offsets[t]), TL.Load(w + t * TL.Count), a);
        TL.Store(o, TL.Apply(post, a));
    }
}
