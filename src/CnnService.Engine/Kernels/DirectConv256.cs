using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnService.Engine.Kernels;

// Legend: see IMicroKernel.cs and DirectConv.cs. A half is 16 of a tile's 32 output channels (two ymm vectors), the unit the
// weights are packed in; a pass, the positions one register tile computes over a chunk of the depth.

/// <summary>
/// <see cref="DirectConv"/>'s tiles with AVX2 + FMA: the same 32 output channels by 14 positions, computed in passes of 3
/// positions (14: 3, 3, 3, 3, 2; 13: 3, 3, 3, 2, 2; 7: 3, 2, 2) over all 32 channels: 4 x 3 accumulators, one weight vector
/// at a time and three broadcast inputs, 12 FMAs against 4 weight loads and 3 broadcasts. The broadcasts are the limit on
/// AMD, where a broadcast from memory takes a floating-point pipe beside the two that do FMAs: slices of 8 channels by 14
/// positions (one broadcast per FMA) ran the 3x3 64->64 layer at 63 % of the peak, halves of 16 channels in passes of 5
/// (2 x 5 accumulators, 5 broadcasts per 10 FMAs) at 81 % by the best call, and these passes at 85 % (Zen 3, one thread,
/// the kernel alone; paired in one process 1.05x the halves, resnet18 1.03x). A last tile of 16 filters still runs as one
/// half in passes of 5, 5 and 4 (13: 5, 4, 4; 7: 4, 3), the same sums in the same order.
/// The depth goes in chunks of channels, every pass over one chunk before the next, so a chunk's weights (18 KB for 16
/// channels of a 3x3 layer) and input rows are read from L1 or L2 by all its passes; the sums wait in scratch between
/// chunks (a running sum: the same order, hence the same bits, as <see cref="DirectConv"/>, whose depth blocks of
/// <see cref="ImplicitGemm.MaxFullDepth"/> steps start from zero here too). The store goes through 8 x 8 transposes.
/// </summary>
internal static unsafe class DirectConv256
{
    /// <summary>Channels of a half tile: two Vector256.</summary>
    public const int Half = 16;

    /// <summary>Floats of scratch a tile uses: the running sums of both halves at 14 (and 2 spare) positions, [half][position][16],
    /// then the earlier depth blocks' sums in the same layout.</summary>
    public const int ScratchFloats = 2 * (2 * 16 * Half);

    /// <summary>Input channels per chunk of the depth: about 144 steps (16 channels of a 3x3 layer), so that a 32-filter tile's
    /// chunk of weights (18 KB) stays in a 32 KB L1 while all its passes read it; at 288 steps (36 KB) it did not. Against 288,
    /// alternated in one process by the median window (AMD EPYC Zen 3, batch 1): ResNet-18's 3x3 layers on 28x28, 14x14 and 7x7
    /// maps 1.015-1.043x, the network 1.036x on one thread and 1.055x on two (1.025x at batch 8), GoogLeNet 1.014x, DenseNet-121
    /// and RegNetX-400MF within 1.5 %; 96 steps were no better (the 7x7 layer 0.93x).</summary>
    private static int ChunkChannels(int tapCount) => Math.Max(1, 144 / tapCount);

    /// <summary>
    /// Depth below which a tile asks for its output rows' lines before its passes: an RGB stem's few multiply-adds per output
    /// (27 for 3x3, 147 for 7x7) leave Finish's stores, into 32 planes whose lines are in no cache, half the layer's time.
    /// Asked for first, they arrive while the passes run. Per layer at batch 1 on one thread (AMD EPYC Zen 3, alternated in
    /// one process): SqueezeNet's stem (64 filters) 1.32x, MobileNet V2's 1.30x, ResNet-18's 7x7 1.09x; 3x3 layers of 32
    /// channels and more (288 steps and deeper) 0.96-1.03x, so they do not. The networks, by the fastest third of alternated
    /// rounds: MobileNet V2 1.03x, SqueezeNet 1.04x.
    /// </summary>
    private const int ShallowDepth = 256;

    /// <summary>Asks for the first and last line of each of <paramref name="rows"/> output rows of N positions, <paramref name="p"/> apart.</summary>
    private static void AskForOutputRows<TWidth>(float* output, nint p, int rows) where TWidth : struct, ITileWidth
    {
        for (int r = 0; r < rows; r++)
        {
            float* row = output + r * p;
            Sse.Prefetch0(row);
            Sse.Prefetch0(row + TWidth.N - 1);
        }
    }

    /// <summary>Weights [M][K] packed as the halves read them, [Tiles(M)][2][K][16], filters past M zero: each tile's block has
    /// <see cref="DirectConv.Pack"/>'s size and place, only ordered half by half.</summary>
    public static float[] Pack(ReadOnlySpan<float> weights, int m, int k)
    {
        float[] packed = GC.AllocateArray<float>(DirectConv.Tiles(m) * DirectConv.Channels * k, pinned: true);
        for (int i = 0; i < m; i++)
        {
            int tile = i / DirectConv.Channels, half = i % DirectConv.Channels / Half, lane = i % Half;
            for (int kk = 0; kk < k; kk++) packed[(((long)tile * 2 + half) * k + kk) * Half + lane] = weights[i * k + kk];
        }

        return packed;
    }

    /// <summary>As <see cref="DirectConv.Tile{TWidth}"/>, weights packed by <see cref="Pack"/>: 16 channels when
    /// <paramref name="one"/>, else 32. <paramref name="scratch"/> holds <see cref="ScratchFloats"/>.</summary>
    public static void Tile<TWidth>(bool one, int sw, float* w, float* bias, float* input, nint second, nint* taps, int tapCount, int channels, nint plane,
        float* output, nint p, in FusedActivation act, float* scratch) where TWidth : struct, ITileWidth
    {
        if (sw == 1) Tile<Stride1, TWidth>(one, w, bias, input, second, taps, tapCount, channels, plane, output, p, act, scratch);
        else Tile<Stride2, TWidth>(one, w, bias, input, second, taps, tapCount, channels, plane, output, p, act, scratch);
    }

    private static void Tile<TStride, TWidth>(bool one, float* w, float* bias, float* input, nint second, nint* taps, int tapCount, int channels, nint plane,
        float* output, nint p, in FusedActivation act, float* scratch) where TStride : struct, IStride where TWidth : struct, ITileWidth
    {
        int halves = one ? 1 : 2, S = TStride.S;
        nint depth = (nint)channels * tapCount;
        if (depth < ShallowDepth) AskForOutputRows<TWidth>(output, p, halves * Half);
        float* totals = scratch + ScratchFloats / 2;
        // Positions 7-13 start at input + second (y below): usually right after position 6, else one output row down (rows of
        // 7) or from OW - 7 (rows of 12 or 13), which only the passes across positions 6 and 7 have to follow.
        // Depth blocks as DirectConv's, each summed from zero and added to the earlier ones at its end.
        int blocks = (channels * tapCount + ImplicitGemm.MaxFullDepth - 1) / ImplicitGemm.MaxFullDepth;
        int perBlock = (channels + blocks - 1) / blocks, chunk = ChunkChannels(tapCount);
        bool rows3 = InRunsOfThree(taps, tapCount);
        for (int b0 = 0; b0 < channels; b0 += perBlock)
        {
            int bEnd = Math.Min(channels, b0 + perBlock);
            for (int c0 = b0; c0 < bEnd; c0 += chunk)
            {
                int c1 = Math.Min(bEnd, c0 + chunk);
                bool fresh = c0 == b0;
                float* x = input + c0 * plane, y = x + second;
                // The first pass asks for the next chunk's input (its first and last position), the rest find it in L1.
                float* next = x + (nint)chunk * plane, nextEnd = next + second + (TWidth.N - 1 - DirectConv.Width / 2) * S;
                if (one) Passes16<TStride, TWidth>(w + (nint)c0 * tapCount * Half, x, y, next, nextEnd, taps, tapCount, c0, c1, plane, scratch, fresh);
                else Passes32<TStride, TWidth>(w + (nint)c0 * tapCount * Half, depth * Half, x, y, next, nextEnd, taps, tapCount, rows3, c0, c1, plane, scratch, fresh);
            }

            // The block's sums, added to the earlier blocks' (in DirectConv's order: this block's sum plus the earlier total).
            bool last = bEnd == channels;
            if (b0 > 0 || !last)
            {
                for (int h = 0; h < halves; h++)
                    for (int j = 0; j < TWidth.N; j++)
                    {
                        float* at = scratch + (h * 16 + j) * Half, total = totals + (h * 16 + j) * Half;
                        for (int v = 0; v < Half; v += 8)
                        {
                            Vector256<float> sum = Vector256.Load(at + v);
                            if (b0 > 0) sum += Vector256.Load(total + v);
                            sum.Store(last ? at + v : total + v);
                        }
                    }
            }
        }

        for (int h = 0; h < halves; h++)
            Finish<TWidth>(act, scratch + h * 16 * Half, bias + h * Half, output + h * Half * p, p);
    }

    /// <summary>A tile of 32 filters over channels [<paramref name="c0"/>, <paramref name="c1"/>): all four vectors a pass, in passes of
    /// 3 positions (the last one or two of 2), so that the chunk's weights are read once per 3 positions; positions 0-6 from
    /// <paramref name="x"/>, 7-13 from <paramref name="y"/>. The sums go to <paramref name="scratch"/>, [half][position][16].</summary>
    private static void Passes32<TStride, TWidth>(float* w, nint other, float* x, float* y, float* next, float* nextEnd, nint* taps, int tapCount, bool rows3,
        int c0, int c1, nint plane, float* scratch, bool fresh) where TStride : struct, IStride where TWidth : struct, ITileWidth
    {
        int S = TStride.S;
        float* s0 = scratch, s1 = scratch + 16 * Half;
        if (TWidth.N == DirectConv.Width)
        {
            Pass32<Three, TStride, Ahead>(w, other, x, x + S, x + 2 * S, next, nextEnd, taps, tapCount, rows3, c0, c1, plane, s0, s1, fresh);
            Pass32<Three, TStride, NotAhead>(w, other, x + 3 * S, x + 4 * S, x + 5 * S, null, null, taps, tapCount, rows3, c0, c1, plane, s0 + 3 * Half, s1 + 3 * Half, fresh);
            Pass32<Three, TStride, NotAhead>(w, other, x + 6 * S, y, y + S, null, null, taps, tapCount, rows3, c0, c1, plane, s0 + 6 * Half, s1 + 6 * Half, fresh);
            Pass32<Three, TStride, NotAhead>(w, other, y + 2 * S, y + 3 * S, y + 4 * S, null, null, taps, tapCount, rows3, c0, c1, plane, s0 + 9 * Half, s1 + 9 * Half, fresh);
            Pass32<Two, TStride, NotAhead>(w, other, y + 5 * S, y + 6 * S, null, null, null, taps, tapCount, rows3, c0, c1, plane, s0 + 12 * Half, s1 + 12 * Half, fresh);
        }
        else if (TWidth.N == DirectConv.Width - 1)
        {
            Pass32<Three, TStride, Ahead>(w, other, x, x + S, x + 2 * S, next, nextEnd, taps, tapCount, rows3, c0, c1, plane, s0, s1, fresh);
            Pass32<Three, TStride, NotAhead>(w, other, x + 3 * S, x + 4 * S, x + 5 * S, null, null, taps, tapCount, rows3, c0, c1, plane, s0 + 3 * Half, s1 + 3 * Half, fresh);
            Pass32<Three, TStride, NotAhead>(w, other, x + 6 * S, y, y + S, null, null, taps, tapCount, rows3, c0, c1, plane, s0 + 6 * Half, s1 + 6 * Half, fresh);
            Pass32<Two, TStride, NotAhead>(w, other, y + 2 * S, y + 3 * S, null, null, null, taps, tapCount, rows3, c0, c1, plane, s0 + 9 * Half, s1 + 9 * Half, fresh);
            Pass32<Two, TStride, NotAhead>(w, other, y + 4 * S, y + 5 * S, null, null, null, taps, tapCount, rows3, c0, c1, plane, s0 + 11 * Half, s1 + 11 * Half, fresh);
        }
        else
        {
            Pass32<Three, TStride, Ahead>(w, other, x, x + S, x + 2 * S, next, next + 6 * S, taps, tapCount, rows3, c0, c1, plane, s0, s1, fresh);
            Pass32<Two, TStride, NotAhead>(w, other, x + 3 * S, x + 4 * S, null, null, null, taps, tapCount, rows3, c0, c1, plane, s0 + 3 * Half, s1 + 3 * Half, fresh);
            Pass32<Two, TStride, NotAhead>(w, other, x + 5 * S, x + 6 * S, null, null, null, taps, tapCount, rows3, c0, c1, plane, s0 + 5 * Half, s1 + 5 * Half, fresh);
        }
    }

    /// <summary>A tile of 16 filters (MobileNet V3's 16-filter stem) over channels [<paramref name="c0"/>, <paramref name="c1"/>):
    /// two vectors a pass, in passes of 5, 5 and 4 positions (13: 5, 4, 4; 7: 4, 3).</summary>
    private static void Passes16<TStride, TWidth>(float* w, float* x, float* y, float* next, float* nextEnd, nint* taps, int tapCount,
        int c0, int c1, nint plane, float* sums, bool fresh) where TStride : struct, IStride where TWidth : struct, ITileWidth
    {
        int S = TStride.S;
        nint jump = (nint)(y - x) - DirectConv.Width / 2 * S; // 0 when positions 0-13 are one run
        if (TWidth.N == DirectConv.Width)
        {
            Pass<Five, TStride>(true, w, x, 0, 5, next, nextEnd, taps, tapCount, c0, c1, plane, sums, fresh);
            Pass<Five, TStride>(false, w, x + 5 * S, jump, 2, next, nextEnd, taps, tapCount, c0, c1, plane, sums + 5 * Half, fresh);
            Pass<Four, TStride>(false, w, y + 3 * S, 0, 4, next, nextEnd, taps, tapCount, c0, c1, plane, sums + 10 * Half, fresh);
        }
        else if (TWidth.N == DirectConv.Width - 1)
        {
            Pass<Five, TStride>(true, w, x, 0, 5, next, nextEnd, taps, tapCount, c0, c1, plane, sums, fresh);
            Pass<Four, TStride>(false, w, x + 5 * S, jump, 2, next, nextEnd, taps, tapCount, c0, c1, plane, sums + 5 * Half, fresh);
            Pass<Four, TStride>(false, w, y + 2 * S, 0, 4, next, nextEnd, taps, tapCount, c0, c1, plane, sums + 9 * Half, fresh);
        }
        else
        {
            Pass<Four, TStride>(true, w, x, 0, 4, next, next + 6 * S, taps, tapCount, c0, c1, plane, sums, fresh);
            Pass<Three, TStride>(false, w, x + 4 * S, 0, 3, next, next, taps, tapCount, c0, c1, plane, sums + 4 * Half, fresh);
        }
    }

    /// <summary>Positions of one pass, a constant per instantiation.</summary>
    private interface IPassWidth
    {
        static abstract int N { get; }
    }

    private readonly struct Two : IPassWidth { public static int N => 2; }
    private readonly struct Three : IPassWidth { public static int N => 3; }

    /// <summary>A flag fixed per instantiation: the pass that asks for the next chunk is compiled apart from the others.</summary>
    private interface IFlag
    {
        static abstract bool On { get; }
    }

    private readonly struct Ahead : IFlag { public static bool On => true; }
    private readonly struct NotAhead : IFlag { public static bool On => false; }

    /// <summary>
    /// One pass of all 32 channels (four ymm vectors: the half at <paramref name="w"/>, [K][16] from the chunk's first channel, and
    /// the one <paramref name="other"/> floats on) at N (2 or 3) positions read at <paramref name="q0"/>, <paramref name="q1"/> and
    /// <paramref name="q2"/>, over channels [<paramref name="c0"/>, <paramref name="c1"/>); the sums of the two halves at
    /// <paramref name="sums0"/> and <paramref name="sums1"/> ([position][16]), started from zero when <paramref name="fresh"/>.
    /// With <typeparamref name="TAhead"/> on it asks for the same tap of <paramref name="pf0"/> and <paramref name="pf1"/> (the
    /// next chunk's first and last position).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pass32<TN, TStride, TAhead>(float* w, nint other, float* q0, float* q1, float* q2, float* pf0, float* pf1, nint* taps, int tapCount, bool rows3,
        int c0, int c1, nint plane, float* sums0, float* sums1, bool fresh) where TN : struct, IPassWidth where TStride : struct, IStride where TAhead : struct, IFlag
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        Vector256<float> d0 = default, d1 = default, d2 = default, d3 = default;
        if (!fresh)
        {
            a0 = Vector256.Load(sums0); a1 = Vector256.Load(sums0 + 8); a2 = Vector256.Load(sums1); a3 = Vector256.Load(sums1 + 8);
            b0 = Vector256.Load(sums0 + 16); b1 = Vector256.Load(sums0 + 24); b2 = Vector256.Load(sums1 + 16); b3 = Vector256.Load(sums1 + 24);
            if (TN.N > 2)
            {
                d0 = Vector256.Load(sums0 + 32); d1 = Vector256.Load(sums0 + 40); d2 = Vector256.Load(sums1 + 32); d3 = Vector256.Load(sums1 + 40);
            }
        }

        // Taps by pointer and the prefetching pass compiled apart: 24 instructions a step where an index and a run-time flag
        // made 27 (the 3x3 64->64 kernel 1.03-1.04x, ResNet-18 1.03x paired in one process, Zen 3).
        nint* end = taps + tapCount;
        for (int c = c0; c < c1; c++, q0 += plane, q1 += plane, q2 += plane, pf0 += plane, pf1 += plane)
        {
            if (rows3)
            {
                // A 3-wide kernel row's taps from one offset, as the implicit GEMM's (TapRows3): 20 instructions a tap, not 24.
                for (nint* tap = taps; tap < end; tap += 3, w += 3 * Half)
                {
                    nint o = *tap;
                    if (TAhead.On) { Sse.Prefetch0(pf0 + o); Sse.Prefetch0(pf1 + o + 2); }
                    Tap32<TN>(q0, q1, q2, o, w, 0, other, ref a0, ref a1, ref a2, ref a3, ref b0, ref b1, ref b2, ref b3, ref d0, ref d1, ref d2, ref d3);
                    Tap32<TN>(q0, q1, q2, o + 1, w, Half, other, ref a0, ref a1, ref a2, ref a3, ref b0, ref b1, ref b2, ref b3, ref d0, ref d1, ref d2, ref d3);
                    Tap32<TN>(q0, q1, q2, o + 2, w, 2 * Half, other, ref a0, ref a1, ref a2, ref a3, ref b0, ref b1, ref b2, ref b3, ref d0, ref d1, ref d2, ref d3);
                }

                continue;
            }

            for (nint* tap = taps; tap < end; tap++, w += Half)
            {
                nint o = *tap;
                if (TAhead.On) { Sse.Prefetch0(pf0 + o); Sse.Prefetch0(pf1 + o); }
                Tap32<TN>(q0, q1, q2, o, w, 0, other, ref a0, ref a1, ref a2, ref a3, ref b0, ref b1, ref b2, ref b3, ref d0, ref d1, ref d2, ref d3);
            }
        }

        a0.Store(sums0); a1.Store(sums0 + 8); a2.Store(sums1); a3.Store(sums1 + 8);
        b0.Store(sums0 + 16); b1.Store(sums0 + 24); b2.Store(sums1 + 16); b3.Store(sums1 + 24);
        if (TN.N > 2)
        {
            d0.Store(sums0 + 32); d1.Store(sums0 + 40); d2.Store(sums1 + 32); d3.Store(sums1 + 40);
        }
    }

    /// <summary>One tap of <see cref="Pass32{TN, TStride, TAhead}"/>: the inputs at offset <paramref name="o"/> of each position times the
    /// four weight vectors at <paramref name="w"/> + <paramref name="at"/> (two) and that + <paramref name="other"/> (two). The tap's
    /// place in its run is a constant (<paramref name="at"/>), so the weights' loads take it as a displacement.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tap32<TN>(float* q0, float* q1, float* q2, nint o, float* w, int at, nint other, ref Vector256<float> a0, ref Vector256<float> a1,
        ref Vector256<float> a2, ref Vector256<float> a3, ref Vector256<float> b0, ref Vector256<float> b1, ref Vector256<float> b2, ref Vector256<float> b3,
        ref Vector256<float> d0, ref Vector256<float> d1, ref Vector256<float> d2, ref Vector256<float> d3) where TN : struct, IPassWidth
    {
        Vector256<float> v0 = Vector256.Create(q0[o]), v1 = Vector256.Create(q1[o]);
        Vector256<float> v2 = TN.N > 2 ? Vector256.Create(q2[o]) : default;
        Vector256<float> k = Vector256.Load(w + at);
        a0 = Vector256.FusedMultiplyAdd(v0, k, a0); b0 = Vector256.FusedMultiplyAdd(v1, k, b0);
        if (TN.N > 2) d0 = Vector256.FusedMultiplyAdd(v2, k, d0);
        k = Vector256.Load(w + (at + 8));
        a1 = Vector256.FusedMultiplyAdd(v0, k, a1); b1 = Vector256.FusedMultiplyAdd(v1, k, b1);
        if (TN.N > 2) d1 = Vector256.FusedMultiplyAdd(v2, k, d1);
        k = Vector256.Load(w + other + at);
        a2 = Vector256.FusedMultiplyAdd(v0, k, a2); b2 = Vector256.FusedMultiplyAdd(v1, k, b2);
        if (TN.N > 2) d2 = Vector256.FusedMultiplyAdd(v2, k, d2);
        k = Vector256.Load(w + other + (at + 8));
        a3 = Vector256.FusedMultiplyAdd(v0, k, a3); b3 = Vector256.FusedMultiplyAdd(v1, k, b3);
        if (TN.N > 2) d3 = Vector256.FusedMultiplyAdd(v2, k, d3);
    }

    /// <summary>Whether the taps come in runs of three consecutive offsets (a kernel 3 or 6 wide): tap 3g + j at tap 3g's offset + j.</summary>
    private static bool InRunsOfThree(nint* taps, int count)
    {
        if (count % 3 != 0) return false;
        for (int g = 0; g < count; g += 3)
            if (taps[g + 1] != taps[g] + 1 || taps[g + 2] != taps[g] + 2) return false;
        return true;
    }

    private readonly struct Four : IPassWidth { public static int N => 4; }
    private readonly struct Five : IPassWidth { public static int N => 5; }

    /// <summary>
    /// One pass: 16 channels (weights <paramref name="w"/>, [K][16] from the chunk's first channel) at N positions over
    /// channels [<paramref name="c0"/>, <paramref name="c1"/>), the sums at <paramref name="sums"/> ([position][16]) started
    /// from zero when <paramref name="fresh"/>, else continued. Position i of the pass reads from <paramref name="from"/> + i*S,
    /// plus <paramref name="jump"/> from position <paramref name="split"/> on. With <paramref name="ahead"/> it asks for the
    /// same tap of <paramref name="pf0"/> and <paramref name="pf1"/> (the next chunk's first and last position).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pass<TN, TStride>(bool ahead, float* w, float* from, nint jump, int split, float* pf0, float* pf1, nint* taps, int tapCount,
        int c0, int c1, nint plane, float* sums, bool fresh) where TN : struct, IPassWidth where TStride : struct, IStride
    {
        int S = TStride.S;
        Vector256<float> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default, s40 = default, s41 = default;
        if (!fresh)
        {
            s00 = Vector256.Load(sums); s01 = Vector256.Load(sums + 8); s10 = Vector256.Load(sums + 16); s11 = Vector256.Load(sums + 24);
            s20 = Vector256.Load(sums + 32); s21 = Vector256.Load(sums + 40);
            if (TN.N > 3) { s30 = Vector256.Load(sums + 48); s31 = Vector256.Load(sums + 56); }
            if (TN.N > 4) { s40 = Vector256.Load(sums + 64); s41 = Vector256.Load(sums + 72); }
        }

        if (jump == 0)
        {
            // One run of positions: every broadcast addresses from one pointer at a constant distance.
            for (int c = c0; c < c1; c++, from += plane, pf0 += plane, pf1 += plane)
            {
                for (int t = 0; t < tapCount; t++, w += Half)
                {
                    nint o = taps[t];
                    float* q = from + o;
                    Vector256<float> w0 = Vector256.Load(w), w1 = Vector256.Load(w + 8);
                    if (ahead) { Sse.Prefetch0(pf0 + o); Sse.Prefetch0(pf1 + o); }
                    Vector256<float> v = Vector256.Create(q[0]);
                    s00 = Vector256.FusedMultiplyAdd(v, w0, s00); s01 = Vector256.FusedMultiplyAdd(v, w1, s01);
                    v = Vector256.Create(q[S]);
                    s10 = Vector256.FusedMultiplyAdd(v, w0, s10); s11 = Vector256.FusedMultiplyAdd(v, w1, s11);
                    v = Vector256.Create(q[2 * S]);
                    s20 = Vector256.FusedMultiplyAdd(v, w0, s20); s21 = Vector256.FusedMultiplyAdd(v, w1, s21);
                    if (TN.N > 3)
                    {
                        v = Vector256.Create(q[3 * S]);
                        s30 = Vector256.FusedMultiplyAdd(v, w0, s30); s31 = Vector256.FusedMultiplyAdd(v, w1, s31);
                    }

                    if (TN.N > 4)
                    {
                        v = Vector256.Create(q[4 * S]);
                        s40 = Vector256.FusedMultiplyAdd(v, w0, s40); s41 = Vector256.FusedMultiplyAdd(v, w1, s41);
                    }
                }
            }
        }
        else
        {
            // Positions from split on jump to another row: each position its own pointer (never the first pass: no prefetch).
            float* q0 = from, q1 = from + S + (split <= 1 ? jump : 0), q2 = from + 2 * S + (split <= 2 ? jump : 0);
            float* q3 = from + 3 * S + (split <= 3 ? jump : 0), q4 = from + 4 * S + (split <= 4 ? jump : 0);
            for (int c = c0; c < c1; c++, q0 += plane, q1 += plane, q2 += plane, q3 += plane, q4 += plane)
            {
                for (int t = 0; t < tapCount; t++, w += Half)
                {
                    nint o = taps[t];
                    Vector256<float> w0 = Vector256.Load(w), w1 = Vector256.Load(w + 8);
                    Vector256<float> v = Vector256.Create(q0[o]);
                    s00 = Vector256.FusedMultiplyAdd(v, w0, s00); s01 = Vector256.FusedMultiplyAdd(v, w1, s01);
                    v = Vector256.Create(q1[o]);
                    s10 = Vector256.FusedMultiplyAdd(v, w0, s10); s11 = Vector256.FusedMultiplyAdd(v, w1, s11);
                    v = Vector256.Create(q2[o]);
                    s20 = Vector256.FusedMultiplyAdd(v, w0, s20); s21 = Vector256.FusedMultiplyAdd(v, w1, s21);
                    if (TN.N > 3)
                    {
                        v = Vector256.Create(q3[o]);
                        s30 = Vector256.FusedMultiplyAdd(v, w0, s30); s31 = Vector256.FusedMultiplyAdd(v, w1, s31);
                    }

                    if (TN.N > 4)
                    {
                        v = Vector256.Create(q4[o]);
                        s40 = Vector256.FusedMultiplyAdd(v, w0, s40); s41 = Vector256.FusedMultiplyAdd(v, w1, s41);
                    }
                }
            }
        }

        s00.Store(sums); s01.Store(sums + 8); s10.Store(sums + 16); s11.Store(sums + 24); s20.Store(sums + 32); s21.Store(sums + 40);
        if (TN.N > 3) { s30.Store(sums + 48); s31.Store(sums + 56); }
        if (TN.N > 4) { s40.Store(sums + 64); s41.Store(sums + 72); }
    }

    /// <summary>A half tile's sums at <paramref name="sums"/> ([position][16]) with the bias added and the activation applied, stored as 16
    /// channel rows of N positions.</summary>
    private static void Finish<TWidth>(in FusedActivation act, float* sums, float* bias, float* output, nint p) where TWidth : struct, ITileWidth
    {
        var call = new FinishCall<TWidth>(sums, bias, output, p);
        TileActivation.Run(act, ref call);
    }

    private readonly struct FinishCall<TWidth>(float* sums, float* bias, float* output, nint p) : ITileStore where TWidth : struct, ITileWidth
    {
        public void Run<TAct>(float lo, float hi) where TAct : struct, IUnaryOperator => Finish<TWidth, TAct>(sums, bias, output, p, lo, hi);
    }

    private static void Finish<TWidth, TAct>(float* sums, float* bias, float* output, nint p, float lo, float hi) where TWidth : struct, ITileWidth where TAct : struct, IUnaryOperator
    {
        Vector256<float> l = Vector256.Create(lo), h = Vector256.Create(hi);
        for (int v = 0; v < Half; v += 8)
        {
            Vector256<float> b = Vector256.Load(bias + v);
            for (int j = 0; j < TWidth.N; j++)
            {
                float* at = sums + j * Half + v;
                TileActivation.Apply<TAct>(Vector256.Load(at), b, l, h).Store(at);
            }
        }

        StoreRows<TWidth>(sums, output, p);
        StoreRows<TWidth>(sums + 8, output + 8 * p, p);
    }

    /// <summary>8 channels' results at <paramref name="tile"/> ([position][16]: 16 positions, the first 8 channels of each) stored as 8 channel rows of
    /// <see cref="ITileWidth.N"/> positions, <paramref name="p"/> apart: nothing past a row's N positions is written (another
    /// thread may own what follows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRows<TWidth>(float* tile, float* output, nint p) where TWidth : struct, ITileWidth
    {
        Transpose8.Load(tile, Half, out var r0, out var r1, out var r2, out var r3, out var r4, out var r5, out var r6, out var r7);
        if (TWidth.N >= 8)
        {
            r0.Store(output); r1.Store(output + p); r2.Store(output + 2 * p); r3.Store(output + 3 * p);
            r4.Store(output + 4 * p); r5.Store(output + 5 * p); r6.Store(output + 6 * p); r7.Store(output + 7 * p);
            Transpose8.Load(tile + 8 * Half, Half, out r0, out r1, out r2, out r3, out r4, out r5, out r6, out r7);
            output += 8;
        }

        Part<TWidth>(r0, output); Part<TWidth>(r1, output + p); Part<TWidth>(r2, output + 2 * p); Part<TWidth>(r3, output + 3 * p);
        Part<TWidth>(r4, output + 4 * p); Part<TWidth>(r5, output + 5 * p); Part<TWidth>(r6, output + 6 * p); Part<TWidth>(r7, output + 7 * p);
    }

    /// <summary>The first N % 8 floats of <paramref name="v"/> (7 of a half tile, 6 of 14, 5 of 13) in at most three stores.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Part<TWidth>(Vector256<float> v, float* to) where TWidth : struct, ITileWidth
    {
        int n = TWidth.N % 8;
        Vector128<float> low = v.GetLower();
        if (n >= 4)
        {
            low.Store(to);
            low = v.GetUpper();
            to += 4;
            n -= 4;
        }

        if (n >= 2)
        {
            Sse.StoreLow(to, low);
            if (n == 3) Sse.StoreScalar(to + 2, Sse.MoveHighToLow(low, low));
        }
        else if (n == 1) Sse.StoreScalar(to, low);
    }
}
