using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Kernels;

// Legend: see IMicroKernel.cs. Here P = OH*OW is one image's output plane, read flat: a 1x1
// convolution at stride 1 maps input position p to output position p, so the rows of the map
// do not matter and a tile's 14 positions may run across them.

/// <summary>
/// A 1x1 convolution (pointwise: most of MobileNet's and EfficientNet's work, SqueezeNet's
/// squeeze and expand layers) with AVX-512 as <see cref="DirectConv"/> tiles over the flat plane: 32 output
/// channels in the lanes by 14 neighbouring positions, the input [C][P] read in place. The GEMM
/// lowerings lose here on small maps: 7x7 = 49 positions fill two 32-column panels at 77%, and
/// 13x13 or 14x14 leave a short panel per image, where 14-position tiles lose at most 1 in 8
/// (the last tile of a plane moves back to end at P, recomputing a few positions). Stride 2 is
/// the same after its input is subsampled (<see cref="Subsample"/>), which costs C*P copies against
/// M*C*P multiply-adds. Filters are padded up to whole tiles of 32 with zero weights; the last
/// tile of a layer whose filters are not a multiple of 32 goes through a scratch tile, and computes
/// one vector of 16 channels, not two, when at most 16 filters are left. With AVX2 the lowering runs
/// <see cref="PointwiseGemm256"/> instead.
/// </summary>
internal static unsafe class PointwiseConv
{
    /// <summary>Floats of per-thread scratch: the tile kernel's 16 x 32 (<see cref="DirectConv.Tile"/>) plus one 32 x 14 output tile.</summary>
    public const int ScratchFloats = TileScratchFloats + DirectConv.Channels * DirectConv.Width;

    private const int TileScratchFloats = 16 * DirectConv.Channels;

    /// <summary>
    /// Whether the plan should take this path: a plane of at least one tile, filters that waste at
    /// most 1 in 4 lanes when padded to whole tiles (EfficientNet's 80 and 112: the GEMM's panels waste
    /// as much on a 14x14 plane, and its B vectors meet every filter, so one subnormal input, which
    /// SiLU's products make, stalls M FMAs there against M/16 here), and a depth worth a tile's two 16 x 16 transposes: from
    /// 16 input channels (MobileNet's 16 -> 96 expansion at 112x112 gained on implicit GEMM; below, the
    /// transposes cost about as much as the FMAs).
    /// </summary>
    public static bool Suits(int m, int c, int p) =>
        Runs(p) && c >= 16 && m >= DirectConv.Channels && (DirectConv.Tiles(m) * DirectConv.Channels - m) * 4 <= m;

    /// <summary>Whether these tiles can run a plane of <paramref name="p"/> positions at all, worth it or not (a plan chosen by
    /// measurement times them where <see cref="Suits"/> would not choose them): any depth and filters, a plane of a tile or more.</summary>
    public static bool Runs(int p) => p >= DirectConv.Width;

    /// <summary>Position tiles of one plane: 14 at a time, the last moved back to end at P; 13 at a time where 13 divides P
    /// and 14 does not even with a half tile last (13x13: 12 tiles and a half computed 6 positions twice).</summary>
    public static int Positions(int p) => (p + TileWidth(p) - 1) / TileWidth(p);

    /// <summary>Positions a tile of this plane takes: 14, or 13 (see <see cref="Positions"/>).</summary>
    public static int TileWidth(int p) => p % 13 == 0 && p % (DirectConv.Width / 2) != 0 ? DirectConv.Width - 1 : DirectConv.Width;

    /// <summary>
    /// Position tiles taken together so that the input they read ([C] x 14 a tile) stays in L2 while every channel tile
    /// sweeps it: about 128 KB of input a block. The weights then come from L3 once a block; where they outgrow L2 and one
    /// image's input fits half of it, the whole plane is one block and they come once an image (SqueezeNet's classifier,
    /// 512 -> 1000 on 13x13, streamed its 2 MB 4 times a pass: alone 5 % faster on one thread, 7 % on two, on AMD Zen 5;
    /// MobileNet's and EfficientNet's last 1x1 layers no slower). Only there: whole planes wherever the input fit split
    /// small-weight layers by filters across the threads, each core reading all of an input the other had written, and
    /// EfficientNet-B0 ran 15-30 % slower on two threads. Where threads share a call (<paramref name="shared"/>) and the layer
    /// has more filters than positions (MobileNet's and EfficientNet's 960 -> 160 and 1152 -> 192 on 7x7), the plane is one block
    /// too, so that they split the filters: each then reads half the weights and all of the smaller input, not all the weights
    /// and half the input; and 49 positions in tiles of 14, 14, 14 and 7 had split 28 against 21 (one core 30 % longer).
    /// Paired in one process at batch 1 on two threads (AMD EPYC Zen 4): mobilenet_v2 and efficientnet_b0 0.3-1.4 % faster
    /// (2-4 % in rounds where the other vCPU was hardly running); one thread and batch 8 (one share a thread) are unchanged.
    /// </summary>
    public static int Block(int m, int c, int p, bool shared)
    {
        int positions = Positions(p);
        bool inputFits = (long)c * p * sizeof(float) <= BatchChunking.BudgetBytes;
        if (inputFits && ((long)m * c * sizeof(float) >= BatchChunking.L2Bytes || shared && m > p)) return positions;
        return Math.Clamp((128 << 10) / (c * DirectConv.Width * sizeof(float)), 1, positions);
    }

    /// <summary>
    /// Channel tiles [tile0, tile1) at position tiles [x0, x1) of one image: <paramref name="input"/> is its
    /// [C][P] plane, <paramref name="output"/> its [M][P]. <paramref name="scratch"/> holds <see cref="ScratchFloats"/>.
    /// </summary>
    public static void Run(float* weights, float* bias, float* input, int c, int p, float* output, int m, in FusedActivation act,
        int tile0, int tile1, int x0, int x1, float* scratch) =>
        Run(weights, bias, input, p, c, p, output, p, m, act, tile0, tile1, x0, x1, scratch);

    /// <summary>
    /// As above over <paramref name="positions"/> consecutive positions of planes that may be longer: the input's channels
    /// lie <paramref name="inPlane"/> floats apart, the output's <paramref name="outPlane"/> (a band of rows of the map, written
    /// into a buffer of its own). Position tiles are counted over <paramref name="positions"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* weights, float* bias, float* input, nint inPlane, int c, int positions, float* output, nint outPlane, int m,
        in FusedActivation act, int tile0, int tile1, int x0, int x1, float* scratch)
    {
        const int Ch = DirectConv.Channels, W = DirectConv.Width;
        float* tile = scratch + TileScratchFloats;
        int p = positions;
        bool by13 = TileWidth(p) == W - 1;
        for (int t = tile0; t < tile1; t++)
        {
            int i0 = t * Ch, valid = Math.Min(Ch, m - i0);
            float* w = weights + (nint)i0 * c;
            float* next = t + 1 < DirectConv.Tiles(m) ? w + (nint)c * Ch : null;
            for (int x = x0; x < x1; x++)
            {
                float* ahead = null;
                int aheadLines = next is null ? 0 : NextPart(next, c, x - x0, x1 - x0, out ahead);

                // Tiles of 13 divide the plane. Tiles of 14: the plane's last ends at P, moved back over positions already
                // computed; when at most 7 are left it takes half a tile (27x27 = 52 tiles and 1 position: 6 recomputed).
                int q = x * W, width = W;
                if (by13) (q, width) = (x * (W - 1), W - 1);
                else if (p - q <= W / 2) (q, width) = (p - W / 2, W / 2);
                else q = Math.Min(q, p - W);

                // A short last channel tile goes through scratch, its valid filters copied out; one of 16 exactly is one vector's
                // tile, stored in place (EfficientNet's 80 and 112 filters: a sixth and an eighth of their FMAs thrown away before).
                bool whole = valid == Ch || valid == Ch / 2;
                float* to = whole ? output + (nint)i0 * outPlane + q : tile;
                nint ld = whole ? outPlane : W;
                if (valid > Ch / 2) Tile<TwoVectors>(width, by13, w, bias + i0, input + q, c, inPlane, to, ld, act, scratch, ahead, aheadLines);
                else Tile<OneVector>(width, by13, w, bias + i0, input + q, c, inPlane, to, ld, act, scratch, ahead, aheadLines);
                if (!whole)
                    for (int r = 0; r < valid; r++) new ReadOnlySpan<float>(tile + r * W, width).CopyTo(new Span<float>(output + (i0 + r) * outPlane + q, width));
            }
        }
    }

    /// <summary>One tile of <typeparamref name="TChannels"/> at <paramref name="width"/> positions (14, 13 or 7).</summary>
    private static void Tile<TChannels>(int width, bool by13, float* w, float* bias, float* input, int c, nint inPlane, float* to, nint ld,
        in FusedActivation act, float* scratch, float* ahead, int aheadLines) where TChannels : struct, ITileChannels
    {
        nint zero = 0;
        if (width == DirectConv.Width) DirectConv.Tile<Stride1, WholeTile, TChannels>(w, bias, input, 7, &zero, 1, c, inPlane, to, ld, act, scratch, ahead, aheadLines);
        else if (by13) DirectConv.Tile<Stride1, Tile13, TChannels>(w, bias, input, 7, &zero, 1, c, inPlane, to, ld, act, scratch, ahead, aheadLines);
        else DirectConv.Tile<Stride1, HalfTile, TChannels>(w, bias, input, 7, &zero, 1, c, inPlane, to, ld, act, scratch, ahead, aheadLines);
    }

    /// <summary>
    /// Part <paramref name="part"/> of <paramref name="parts"/> of the next channel tile's weights ([C][32]), as cache lines
    /// for this tile to ask for (prefetcht2) while it computes, spread over its depth (<see cref="DirectConv.Tile"/>'s
    /// <c>ahead</c>). Inside a network a layer's weights come from memory, not cache (MobileNet's 14 MB and EfficientNet's
    /// 21 MB pass through the caches every image), and on a small plane each tile's weights serve only a few position tiles:
    /// without asking ahead every tile's first position tile waited on them. Six pairs of 1x1 layers 320 -> 960 -> 320 on
    /// 7x7 (11 MB of weights), batch 1, one thread: 0.29-0.30 -> 0.20 ms a layer. Those prefetches were first issued all
    /// at once before the tile, hundreds of lines, more than the core keeps in flight; spread one or two a depth step,
    /// mobilenet_v2 and efficientnet_b0 at batch 1 ran 7 % faster on one thread, 3 % on two (paired, AMD EPYC Zen 5). To
    /// L2 (prefetcht2): measured 5-10 % ahead of prefetcht1 and prefetcht0 on the same host.
    /// </summary>
    private static int NextPart(float* next, int c, int part, int parts, out float* ahead)
    {
        int lines = c * DirectConv.Channels * sizeof(float) / 64;
        int l0 = (int)((long)lines * part / parts), l1 = (int)((long)lines * (part + 1) / parts);
        ahead = next + l0 * 16;
        return l1 - l0;
    }

    /// <summary>
    /// Rows [row0, row1) of the strided 1x1 convolution's input, gathered: for each of
    /// <paramref name="planes"/> planes (images x channels) of H x W, output row y takes input row
    /// y*sh, every sw-th value, into a plane of OH x OW.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Subsample(float* input, float* output, int planes, int h, int w, int sh, int sw, int oh, int ow, int row0, int row1)
    {
        for (int plane = 0; plane < planes; plane++)
        {
            float* src = input + (nint)plane * h * w, dst = output + (nint)plane * oh * ow;
            for (int y = row0; y < row1; y++)
            {
                float* from = src + (nint)y * sh * w, to = dst + (nint)y * ow;
                for (int x = 0; x < ow; x++) to[x] = from[(nint)x * sw];
            }
        }
    }
}
