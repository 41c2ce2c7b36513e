using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnService.Engine.Kernels;

// Legend: see IMicroKernel.cs and DirectConv.cs. A half is 16 of a tile's 32 output channels (two ymm vectors); a pass, the
// positions one register tile of a half computes over a chunk of the depth.

/// <summary>
/// <see cref="DirectConv"/>'s tiles with AVX2 + FMA: the same 32 output channels by 14 positions, computed as two halves of
/// 16 channels (two ymm vectors), each in passes of 5, 5 and 4 positions (13: 5, 4, 4; 7: 4, 3). A pass keeps 2 x 5
/// accumulators, two weight vectors and one broadcast input: 10 FMAs against 2 weight loads and 5 broadcasts. The broadcasts
/// are the limit on AMD, where a broadcast from memory takes a floating-point pipe beside the two that do FMAs: slices of
/// 8 channels by 14 positions (one broadcast per FMA) ran the 3x3 64->64 layer at 63 % of the peak (Zen 3, one thread).
/// The depth goes in chunks of channels, every pass of both halves over one chunk before the next, so a chunk's weights (18 KB
/// a half for 32 channels of a 3x3 layer) and input rows are read from L1 or L2 by all its passes; the sums wait in scratch between
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

    /// <summary>Input channels per chunk of the depth: about 288 steps (32 channels of a 3x3 layer; 144 steps measured the same on
    /// the 3x3 64->64 layer, slower on ResNet-18's 7x7 stage).</summary>
    private static int ChunkChannels(int tapCount) => Math.Max(1, 288 / tapCount);

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
        float* totals = scratch + ScratchFloats / 2;
        // Positions 7-13 start at input + second: usually right after position 6 (jump 0, one run of positions), else one output
        // row down (rows of 7) or from OW - 7 (rows of 12 or 13), which only the pass across the two halves has to follow.
        nint jump = second - DirectConv.Width / 2 * S;
        // Depth blocks as DirectConv's, each summed from zero and added to the earlier ones at its end.
        int blocks = (channels * tapCount + ImplicitGemm.MaxFullDepth - 1) / ImplicitGemm.MaxFullDepth;
        int perBlock = (channels + blocks - 1) / blocks, chunk = ChunkChannels(tapCount);
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
                for (int h = 0; h < halves; h++)
                {
                    float* hw = w + (h * depth + (nint)c0 * tapCount) * Half, sums = scratch + h * 16 * Half;
                    bool ahead = h == 0;
                    if (TWidth.N == DirectConv.Width)
                    {
                        Pass<Five, TStride>(ahead, hw, x, 0, 5, next, nextEnd, taps, tapCount, c0, c1, plane, sums, fresh);
                        Pass<Five, TStride>(false, hw, x + 5 * S, jump, 2, next, nextEnd, taps, tapCount, c0, c1, plane, sums + 5 * Half, fresh);
                        Pass<Four, TStride>(false, hw, y + 3 * S, 0, 4, next, nextEnd, taps, tapCount, c0, c1, plane, sums + 10 * Half, fresh);
                    }
                    else if (TWidth.N == DirectConv.Width - 1)
                    {
                        Pass<Five, TStride>(ahead, hw, x, 0, 5, next, nextEnd, taps, tapCount, c0, c1, plane, sums, fresh);
                        Pass<Four, TStride>(false, hw, x + 5 * S, jump, 2, next, nextEnd, taps, tapCount, c0, c1, plane, sums + 5 * Half, fresh);
                        Pass<Four, TStride>(false, hw, y + 2 * S, 0, 4, next, nextEnd, taps, tapCount, c0, c1, plane, sums + 9 * Half, fresh);
                    }
                    else
                    {
                        Pass<Four, TStride>(ahead, hw, x, 0, 4, next, next + 6 * S, taps, tapCount, c0, c1, plane, sums, fresh);
                        Pass<Three, TStride>(false, hw, x + 4 * S, 0, 3, next, next, taps, tapCount, c0, c1, plane, sums + 4 * Half, fresh);
                    }
                }
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

    /// <summary>Positions of one pass, a constant per instantiation.</summary>
    private interface IPassWidth
    {
        static abstract int N { get; }
    }

    private readonly struct Three : IPassWidth { public static int N => 3; }
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
