using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnService.Engine.Kernels;

// Legend: see IMicroKernel.cs. Here Hp, Wp are the padded input's height and width, T = kh*kw the
// taps of one input channel, and a tile is 32 output channels (two vectors) by 14 neighbouring
// output positions of one output row.

/// <summary>
/// Direct convolution with the output channels in the vector lanes (stride 1, AVX-512). Each step
/// of the depth (one input channel, one tap) loads 32 weights as two vectors and broadcasts 14
/// input pixels, one per output position, into 28 accumulators: 28 FMAs against 16 loads (each
/// broadcast feeds two FMAs; 31 of the 32 zmm registers, no spills). Unlike <see cref="ImplicitGemm"/>
/// no column is computed and thrown away, and the weights a tile streams ([K][32], 72 KB for
/// K = 576) come in order.
/// The accumulators hold [position][channel]; the store transposes them to NCHW rows.
/// </summary>
internal static unsafe class DirectConv
{
    /// <summary>Output channels per tile: two vectors.</summary>
    public const int Channels = 32;

    /// <summary>Output positions per tile, along one row.</summary>
    public const int Width = 14;

    /// <summary>Whether the plan should take this path: tiles of 32 channels (the last maybe 16), a depth worth a 16 x 16 transpose
    /// per tile (64 at stride 1, where implicit GEMM is the alternative; 27, a 3x3 RGB stem, at stride 2, where the
    /// alternative gathers im2col panels value by value), a stride along the row of 1 or 2, and rows that split into tiles with little overlap: at least one
    /// tile wide (a row's last tile is moved back to end at OW, recomputing positions: at most 1 in 12 extra), or
    /// exactly half a tile (7: the last stage of ResNet and MobileNet), a tile then taking two rows.</summary>
    public static bool Suits(int m, int k, int oh, int ow, int sw) =>
        Runs(m, oh, ow, sw) && k >= (sw == 1 ? 64 : 27) && (ow < Width || (ow + Width - 1) / Width * Width - ow <= ow / 12);

    /// <summary>Whether these tiles can run the layer at all, worth it or not (a plan chosen by measurement times them where
    /// <see cref="Suits"/> would not choose them): tiles of 32 filters, the last maybe 16 (one vector: MobileNet V3's 16-filter
    /// stem ran im2col at 31 GFLOP/s), a stride along the row of 1 or 2, and rows of at
    /// least a tile, of 7 taken in pairs, or of 12 or 13.</summary>
    public static bool Runs(int m, int oh, int ow, int sw) =>
        m % (Channels / 2) == 0 && sw is 1 or 2 && (ow >= Width || TwoRows(oh, ow) || SplitRow(ow));

    /// <summary>Whether tiles take two output rows of 7 (OW is half a tile, and there are two rows to take).</summary>
    public static bool TwoRows(int oh, int ow) => ow * 2 == Width && oh >= 2;

    /// <summary>Whether a tile takes one row a little short of a tile: 13 (SqueezeNet's and AlexNet's 13x13) as a 13-position
    /// tile, 12 as two halves of 7 that overlap in the middle (1 position in 6 computed twice), where the GEMM's 32-column
    /// panels lose as much and its packing more.</summary>
    public static bool SplitRow(int ow) => ow > Width / 2 && ow < Width && (Width - ow) * 6 <= ow;

    /// <summary>Channel tiles: filters in groups of 32, the last maybe short.</summary>
    public static int Tiles(int m) => (m + Channels - 1) / Channels;

    /// <summary>Weights [M][K] (PyTorch's [M, C, kh, kw]; a 1x1 convolution's [M][C]) packed as the tiles read them,
    /// [Tiles(M)][K][32], filters past M zero.</summary>
    public static float[] Pack(ReadOnlySpan<float> weights, int m, int k)
    {
        float[] packed = GC.AllocateArray<float>(Tiles(m) * Channels * k, pinned: true);
        for (int i = 0; i < m; i++)
        {
            int tile = i / Channels, lane = i % Channels;
            for (int kk = 0; kk < k; kk++) packed[((long)tile * k + kk) * Channels + lane] = weights[i * k + kk];
        }

        return packed;
    }

    /// <summary>The bias padded to whole tiles (zeros past M, and everywhere without a bias).</summary>
    public static float[] PackBias(ReadOnlySpan<float> bias, int m)
    {
        float[] packed = GC.AllocateArray<float>(Tiles(m) * Channels, pinned: true);
        bias.CopyTo(packed);
        return packed;
    }

    /// <summary>Tap offsets into a padded input plane: ki*Wp + kj for (ki, kj) in order.</summary>
    public static nint[] Taps(int kh, int kw, int wp)
    {
        nint[] taps = GC.AllocateArray<nint>(kh * kw, pinned: true);
        for (int ki = 0; ki < kh; ki++)
            for (int kj = 0; kj < kw; kj++) taps[ki * kw + kj] = (nint)ki * wp + kj;
        return taps;
    }

    /// <summary>The tile at a stride along the row of <paramref name="sw"/> (1 or 2), of 16 output channels when
    /// <paramref name="one"/> (<see cref="OneVector"/>), else 32.</summary>
    public static void Tile<TWidth>(bool one, int sw, float* w, float* bias, float* input, nint second, nint* taps, int tapCount, int channels, nint plane,
        float* output, nint p, in FusedActivation act, float* scratch) where TWidth : struct, ITileWidth
    {
        if (one && sw == 1) Tile<Stride1, TWidth, OneVector>(w, bias, input, second, taps, tapCount, channels, plane, output, p, act, scratch);
        else if (one) Tile<Stride2, TWidth, OneVector>(w, bias, input, second, taps, tapCount, channels, plane, output, p, act, scratch);
        else if (sw == 1) Tile<Stride1, TWidth, TwoVectors>(w, bias, input, second, taps, tapCount, channels, plane, output, p, act, scratch);
        else Tile<Stride2, TWidth, TwoVectors>(w, bias, input, second, taps, tapCount, channels, plane, output, p, act, scratch);
    }

    /// <summary>
    /// One tile: 32 output channels (weights <paramref name="w"/>, [K][32]; bias <paramref name="bias"/>, 32)
    /// at 14 positions from <paramref name="output"/> (channel stride <paramref name="p"/>), whose windows start
    /// in channel 0 of the padded input (channel stride <paramref name="plane"/>): position j &lt; 7 at
    /// <paramref name="input"/> + j*S, position 7 + j at <paramref name="input"/> + <paramref name="second"/> + j*S
    /// (S the stride along the row; <paramref name="second"/> is 7*S for 14 positions of one row, or the input
    /// row distance for two output rows of 7). <paramref name="scratch"/> holds 16 x 32 floats. When
    /// <paramref name="ahead"/> is given, the tile asks for <paramref name="aheadLines"/> cache lines from there
    /// (prefetcht2), spread evenly over its depth: the next tile's weights (<see cref="PointwiseConv"/>).
    /// <typeparamref name="TChannels"/> <see cref="OneVector"/> computes only the first 16 of the 32 channels its weights and
    /// bias hold: a layer's last tile when at most 16 of its filters are left, as 80, 112 and 1000 filters leave, where the
    /// second vector's FMAs would all be thrown away.
    /// </summary>
    /// <remarks><paramref name="act"/> is applied after the bias as the tile is stored: none, a ReLU or a clip
    /// (<see cref="TileActivation"/>).</remarks>
    public static void Tile<TStride, TWidth, TChannels>(float* w, float* bias, float* input, nint second, nint* taps, int tapCount, int channels, nint plane,
        float* output, nint p, in FusedActivation act, float* scratch, float* ahead = null, int aheadLines = 0)
        where TStride : struct, IStride where TWidth : struct, ITileWidth where TChannels : struct, ITileChannels
    {
        var call = new TileCall<TStride, TWidth, TChannels>(w, bias, input, second, taps, tapCount, channels, plane, output, p, scratch, ahead, aheadLines);
        TileActivation.Run(act, ref call);
    }

    /// <summary>A tile's arguments, for <see cref="TileActivation.Run"/> to call it with its activation's type.</summary>
    private readonly struct TileCall<TStride, TWidth, TChannels>(float* w, float* bias, float* input, nint second, nint* taps, int tapCount, int channels,
        nint plane, float* output, nint p, float* scratch, float* ahead, int aheadLines) : ITileStore
        where TStride : struct, IStride where TWidth : struct, ITileWidth where TChannels : struct, ITileChannels
    {
        public void Run<TAct>(float lo, float hi) where TAct : struct, IUnaryOperator =>
            Tile<TStride, TWidth, TChannels, TAct>(w, bias, input, second, taps, tapCount, channels, plane, output, p, lo, hi, scratch, ahead, aheadLines);
    }

    /// <summary>The tile at the first <see cref="ITileWidth.N"/> positions only (14; 13, a row or plane that 13-position tiles
    /// divide, as SqueezeNet's 13x13; or 7: the first half, a plane's short last tile that would otherwise recompute up to 13
    /// positions), its activation inlined (a clip's bounds are
    /// <paramref name="lo"/> and <paramref name="hi"/>: passed as values, since a ClipOperator passed in was copied
    /// to the stack at every one of the 28 stores).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TStride, TWidth, TChannels, TAct>(float* w, float* bias, float* input, nint second, nint* taps, int tapCount, int channels, nint plane,
        float* output, nint p, float lo, float hi, float* scratch, float* ahead, int aheadLines)
        where TStride : struct, IStride where TWidth : struct, ITileWidth where TChannels : struct, ITileChannels where TAct : struct, IUnaryOperator
    {
        int S = TStride.S;
        bool two = TChannels.Two; // a constant per instantiation: the one-vector tile has no second half
        // Constants per instantiation: the half tile's code has no second half, the 13-position tile no 14th position.
        bool upper = TWidth.N > Width / 2, fourteenth = TWidth.N == Width;
        // Each sum starts from zero and the bias comes last, as in the GEMM kernels and MLAS: one running
        // sum seeded with the bias rounds twice as far from ONNX Runtime on deep 1x1 convs. Depth blocks
        // of at most ImplicitGemm.MaxFullDepth steps, as there (the weights stream in order from L2
        // either way): a block's end stores and reloads all 28 sums, which at the GEMM's 256 steps
        // cost 0.9 % of the 3x3 64->64 kernel (AMD Zen 4; 576 steps were 3 blocks).
        int blocks = (channels * tapCount + ImplicitGemm.MaxFullDepth - 1) / ImplicitGemm.MaxFullDepth;
        int perBlock = (channels + blocks - 1) / blocks;
        int aheadDue = 0;
        for (int c0 = 0; c0 < channels; c0 += perBlock)
        {
            Vector512<float> c0a = default, c0b = default, c1a = default, c1b = default, c2a = default, c2b = default, c3a = default, c3b = default, c4a = default, c4b = default, c5a = default, c5b = default, c6a = default, c6b = default;
            Vector512<float> c7a = default, c7b = default, c8a = default, c8b = default, c9a = default, c9b = default, c10a = default, c10b = default, c11a = default, c11b = default, c12a = default, c12b = default, c13a = default, c13b = default;
            for (int c = c0, cEnd = Math.Min(channels, c0 + perBlock); c < cEnd; c++, input += plane)
            {
                // aheadLines lines over the tile's channels, each asked for as it falls due: no division in the loop.
                if (ahead != null)
                    for (aheadDue += aheadLines; aheadDue >= channels; aheadDue -= channels, ahead += 16) Sse.Prefetch2(ahead);
                for (int t = 0; t < tapCount; t++, w += Channels)
                {
                    // Positions 0-6 read x, 7-13 read y: the same row further on, or (rows of 7) the next row.
                    float* x = input + taps[t], y = x + second;
                    Vector512<float> w0 = Vector512.Load(w), w1 = two ? Vector512.Load(w + 16) : default;

                    // The same tap of the next channel, a plane (pages) further on: the hardware prefetchers do not
                    // follow it (the tap offsets break the stride), and these loads otherwise wait on L2 each channel
                    // (kernel +6-12 % on an AVX-512 Xeon). First and last position of each half; a prefetch past the
                    // input's end (after the last channel) is harmless, it never faults.
                    Sse.Prefetch0(x + plane); Sse.Prefetch0(x + 6 * S + plane);
                    if (upper) { Sse.Prefetch0(y + plane); Sse.Prefetch0(y + 6 * S + plane); }
                    c0a = Vector512.FusedMultiplyAdd(Vector512.Create(x[0]), w0, c0a); if (two) c0b = Vector512.FusedMultiplyAdd(Vector512.Create(x[0]), w1, c0b);
                    c1a = Vector512.FusedMultiplyAdd(Vector512.Create(x[S]), w0, c1a); if (two) c1b = Vector512.FusedMultiplyAdd(Vector512.Create(x[S]), w1, c1b);
                    c2a = Vector512.FusedMultiplyAdd(Vector512.Create(x[2 * S]), w0, c2a); if (two) c2b = Vector512.FusedMultiplyAdd(Vector512.Create(x[2 * S]), w1, c2b);
                    c3a = Vector512.FusedMultiplyAdd(Vector512.Create(x[3 * S]), w0, c3a); if (two) c3b = Vector512.FusedMultiplyAdd(Vector512.Create(x[3 * S]), w1, c3b);
                    c4a = Vector512.FusedMultiplyAdd(Vector512.Create(x[4 * S]), w0, c4a); if (two) c4b = Vector512.FusedMultiplyAdd(Vector512.Create(x[4 * S]), w1, c4b);
                    c5a = Vector512.FusedMultiplyAdd(Vector512.Create(x[5 * S]), w0, c5a); if (two) c5b = Vector512.FusedMultiplyAdd(Vector512.Create(x[5 * S]), w1, c5b);
                    c6a = Vector512.FusedMultiplyAdd(Vector512.Create(x[6 * S]), w0, c6a); if (two) c6b = Vector512.FusedMultiplyAdd(Vector512.Create(x[6 * S]), w1, c6b);
                    if (upper)
                    {
                        c7a = Vector512.FusedMultiplyAdd(Vector512.Create(y[0]), w0, c7a); if (two) c7b = Vector512.FusedMultiplyAdd(Vector512.Create(y[0]), w1, c7b);
                        c8a = Vector512.FusedMultiplyAdd(Vector512.Create(y[S]), w0, c8a); if (two) c8b = Vector512.FusedMultiplyAdd(Vector512.Create(y[S]), w1, c8b);
                        c9a = Vector512.FusedMultiplyAdd(Vector512.Create(y[2 * S]), w0, c9a); if (two) c9b = Vector512.FusedMultiplyAdd(Vector512.Create(y[2 * S]), w1, c9b);
                        c10a = Vector512.FusedMultiplyAdd(Vector512.Create(y[3 * S]), w0, c10a); if (two) c10b = Vector512.FusedMultiplyAdd(Vector512.Create(y[3 * S]), w1, c10b);
                        c11a = Vector512.FusedMultiplyAdd(Vector512.Create(y[4 * S]), w0, c11a); if (two) c11b = Vector512.FusedMultiplyAdd(Vector512.Create(y[4 * S]), w1, c11b);
                        c12a = Vector512.FusedMultiplyAdd(Vector512.Create(y[5 * S]), w0, c12a); if (two) c12b = Vector512.FusedMultiplyAdd(Vector512.Create(y[5 * S]), w1, c12b);
                        if (fourteenth) { c13a = Vector512.FusedMultiplyAdd(Vector512.Create(y[6 * S]), w0, c13a); if (two) c13b = Vector512.FusedMultiplyAdd(Vector512.Create(y[6 * S]), w1, c13b); }
                    }
                }
            }

            if (c0 > 0)
            {
                c0a += Vector512.Load(scratch + 0); if (two) c0b += Vector512.Load(scratch + 16);
                c1a += Vector512.Load(scratch + 32); if (two) c1b += Vector512.Load(scratch + 48);
                c2a += Vector512.Load(scratch + 64); if (two) c2b += Vector512.Load(scratch + 80);
                c3a += Vector512.Load(scratch + 96); if (two) c3b += Vector512.Load(scratch + 112);
                c4a += Vector512.Load(scratch + 128); if (two) c4b += Vector512.Load(scratch + 144);
                c5a += Vector512.Load(scratch + 160); if (two) c5b += Vector512.Load(scratch + 176);
                c6a += Vector512.Load(scratch + 192); if (two) c6b += Vector512.Load(scratch + 208);
                c7a += Vector512.Load(scratch + 224); if (two) c7b += Vector512.Load(scratch + 240);
                c8a += Vector512.Load(scratch + 256); if (two) c8b += Vector512.Load(scratch + 272);
                c9a += Vector512.Load(scratch + 288); if (two) c9b += Vector512.Load(scratch + 304);
                c10a += Vector512.Load(scratch + 320); if (two) c10b += Vector512.Load(scratch + 336);
                c11a += Vector512.Load(scratch + 352); if (two) c11b += Vector512.Load(scratch + 368);
                c12a += Vector512.Load(scratch + 384); if (two) c12b += Vector512.Load(scratch + 400);
                c13a += Vector512.Load(scratch + 416); if (two) c13b += Vector512.Load(scratch + 432);
            }

            if (c0 + perBlock >= channels)
            {
                // The last block: bias (after the sums, as above), activation and two 16 x 16 transposes to [channel][position]
                // straight from the accumulators. Rows past the tile's width are never stored.
                Vector512<float> b0 = Vector512.Load(bias), b1 = two ? Vector512.Load(bias + 16) : default;
                Vector512<float> l = Vector512.Create(lo), h = Vector512.Create(hi);
                Vector512<float> mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(TWidth.N)).AsSingle();
                Transpose16.Store(Out<TAct>(c0a, b0, l, h), Out<TAct>(c1a, b0, l, h), Out<TAct>(c2a, b0, l, h), Out<TAct>(c3a, b0, l, h), Out<TAct>(c4a, b0, l, h), Out<TAct>(c5a, b0, l, h), Out<TAct>(c6a, b0, l, h),
                    Out<TAct>(c7a, b0, l, h), Out<TAct>(c8a, b0, l, h), Out<TAct>(c9a, b0, l, h), Out<TAct>(c10a, b0, l, h), Out<TAct>(c11a, b0, l, h), Out<TAct>(c12a, b0, l, h), Out<TAct>(c13a, b0, l, h),
                    b0, b0, output, p, mask);
                if (two)
                    Transpose16.Store(Out<TAct>(c0b, b1, l, h), Out<TAct>(c1b, b1, l, h), Out<TAct>(c2b, b1, l, h), Out<TAct>(c3b, b1, l, h), Out<TAct>(c4b, b1, l, h), Out<TAct>(c5b, b1, l, h), Out<TAct>(c6b, b1, l, h),
                    Out<TAct>(c7b, b1, l, h), Out<TAct>(c8b, b1, l, h), Out<TAct>(c9b, b1, l, h), Out<TAct>(c10b, b1, l, h), Out<TAct>(c11b, b1, l, h), Out<TAct>(c12b, b1, l, h), Out<TAct>(c13b, b1, l, h),
                    b1, b1, output + 16 * p, p, mask);
                return;
            }

            // An earlier block's sums wait in scratch, [position][channel].
            c0a.Store(scratch + 0); if (two) c0b.Store(scratch + 16);
            c1a.Store(scratch + 32); if (two) c1b.Store(scratch + 48);
            c2a.Store(scratch + 64); if (two) c2b.Store(scratch + 80);
            c3a.Store(scratch + 96); if (two) c3b.Store(scratch + 112);
            c4a.Store(scratch + 128); if (two) c4b.Store(scratch + 144);
            c5a.Store(scratch + 160); if (two) c5b.Store(scratch + 176);
            c6a.Store(scratch + 192); if (two) c6b.Store(scratch + 208);
            c7a.Store(scratch + 224); if (two) c7b.Store(scratch + 240);
            c8a.Store(scratch + 256); if (two) c8b.Store(scratch + 272);
            c9a.Store(scratch + 288); if (two) c9b.Store(scratch + 304);
            c10a.Store(scratch + 320); if (two) c10b.Store(scratch + 336);
            c11a.Store(scratch + 352); if (two) c11b.Store(scratch + 368);
            c12a.Store(scratch + 384); if (two) c12b.Store(scratch + 400);
            c13a.Store(scratch + 416); if (two) c13b.Store(scratch + 432);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Out<TAct>(Vector512<float> sum, Vector512<float> bias, Vector512<float> lo, Vector512<float> hi) where TAct : struct, IUnaryOperator =>
        TileActivation.Apply<TAct>(sum, bias, lo, hi);
}

/// <summary>The stride along a row of <see cref="DirectConv.Tile"/>, a constant per instantiation so the
/// 14 broadcasts address from one or two registers.</summary>
internal interface IStride
{
    static abstract int S { get; }
}

internal readonly struct Stride1 : IStride
{
    public static int S => 1;
}

internal readonly struct Stride2 : IStride
{
    public static int S => 2;
}

/// <summary>How many of a <see cref="DirectConv.Tile"/>'s 14 positions it computes, a constant per instantiation.</summary>
internal interface ITileWidth
{
    static abstract int N { get; }
}

internal readonly struct WholeTile : ITileWidth
{
    public static int N => DirectConv.Width;
}

internal readonly struct HalfTile : ITileWidth
{
    public static int N => DirectConv.Width / 2;
}

/// <summary>Thirteen positions: a tile one short, for rows and planes that 13 divides and 14 does not.</summary>
internal readonly struct Tile13 : ITileWidth
{
    public static int N => DirectConv.Width - 1;
}

/// <summary>How many output channels a <see cref="DirectConv.Tile"/> computes, a constant per instantiation: two vectors
/// (32) or one (16).</summary>
internal interface ITileChannels
{
    static abstract bool Two { get; }
}

internal readonly struct TwoVectors : ITileChannels
{
    public static bool Two => true;
}

internal readonly struct OneVector : ITileChannels
{
    public static bool Two => false;
}
