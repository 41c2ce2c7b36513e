using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnService.Engine.Kernels;

// Legend: see IMicroKernel.cs. Here the GEMM is the transpose of Gemm's: its rows are an image's P positions and its
// columns the M filters, C^T[P x M] = X^T[P x C] * W^T[C x M], and each result tile is transposed back to [M][P] as it is stored.

/// <summary>
/// A 1x1 convolution with AVX2 (<see cref="PointwiseConv"/>'s place when there is no AVX-512) as a GEMM with
/// <see cref="Gemm"/>'s roles swapped: positions are the rows of <see cref="MicroKernel256"/>'s tile (broadcast) and filters its
/// 24 columns (three vectors). On a small map the GEMM's 24-position panels compute whole panels for a plane's last few
/// positions (72 columns for 7x7 = 49, 192 for 13x13, 216 for 14x14); here a plane's last block computes at most one row more than it
/// keeps, and the filters (MobileNet's and EfficientNet's 96 to 1,280, multiples of 24 or nearly) are what is rounded up.
/// The register tile is the GEMM's (4 broadcasts per 12 FMAs, the 16 ymm registers): DirectConv256's tiles on these layers
/// (5 per 10) were slower than the GEMM's wasted panels. Weights are packed once, at load, into [M/24][K][24]; an image's
/// positions are packed per group of blocks into [8-position blocks][K][8] (C*P copies against M*C*P FMAs), as MLAS packs B.
/// </summary>
internal static unsafe class PointwiseGemm256
{
    /// <summary>Filters a panel holds: the tile's columns (<see cref="MicroKernel256.NR"/>, which a test holds it to).</summary>
    public const int Filters = 24;

    /// <summary>Positions a block holds: the tile's rows (<see cref="MicroKernel256.MR"/>, two halves of 4).</summary>
    public const int Positions = 8;

    public static int Panels(int m) => (m + Filters - 1) / Filters;

    public static int Blocks(int p) => (p + Positions - 1) / Positions;

    /// <summary>
    /// Blocks of positions packed at once: about 128 KB of packed input, which stays in L2 while every filter panel of a
    /// call sweeps it, each panel's depth block (at most 256 x 24 floats, 24 KB) staying in L1 across the group's blocks;
    /// a whole plane when it fits in 256 KB. Every group reads all the layer's weights again, from memory on a deep layer:
    /// 7x7 maps of 672-1,152 channels went in two or three groups, and as one their layers ran 1.10-1.20x as fast on one thread
    /// and 1.17-1.29x on two (EfficientNet-B0's 1152 -> 192 and 320; MobileNet V2's 960 -> 320 1.07x and 1.10x; per layer,
    /// alternated in one process, AMD EPYC Zen 3). Larger groups on 14x14 maps (256 KB for any plane) were slower on two threads.
    /// </summary>
    public static int Group(int c, int p)
    {
        long planeBytes = (long)Blocks(p) * c * Positions * sizeof(float);
        return planeBytes <= (256 << 10) ? Blocks(p) : Math.Clamp((128 << 10) / (c * Positions * sizeof(float)), 1, Blocks(p));
    }

    /// <summary>Position groups of one plane.</summary>
    public static int Groups(int c, int p) => (Blocks(p) + Group(c, p) - 1) / Group(c, p);

    /// <summary>Whether the plan should take this path for a plane of <paramref name="p"/> positions (batch 1): its filters
    /// fill panels better than the plane fills the GEMM's, by a margin for the packing and transposes (measured, see
    /// <see cref="Layers.Conv2D"/>'s plan).</summary>
    public static bool Suits(int m, int p)
    {
        double here = (double)m / (Panels(m) * Filters), gemm = (double)p / ((p + Filters - 1) / Filters * Filters);
        return here >= gemm + 0.05;
    }

    /// <summary>Floats of per-thread scratch for a layer of <paramref name="c"/> input channels on <paramref name="p"/> positions:
    /// a group's packed positions, its result tiles and one block of zeros (the tile's start value).</summary>
    public static long ScratchFloats(int c, int p) => (long)Group(c, p) * Positions * (c + Filters) + Positions;

    /// <summary>[M][K] weights as [panels][K][24], filters past M zero.</summary>
    public static float[] Pack(float[] weights, int m, int k)
    {
        var packed = new float[(long)Panels(m) * Filters * k];
        for (int i = 0; i < m; i++)
        {
            int panel = i / Filters, lane = i % Filters;
            for (int kk = 0; kk < k; kk++) packed[((long)panel * k + kk) * Filters + lane] = weights[(long)i * k + kk];
        }

        return packed;
    }

    /// <summary>The bias padded to whole panels (zeros for a layer without one).</summary>
    public static float[] PackBias(float[] bias, int m)
    {
        var packed = new float[Panels(m) * Filters];
        bias.AsSpan(0, Math.Min(bias.Length, m)).CopyTo(packed);
        return packed;
    }

    /// <summary>
    /// Filter panels [<paramref name="panel0"/>, <paramref name="panel1"/>) at position blocks [<paramref name="block0"/>,
    /// <paramref name="block1"/>) (at most one <see cref="Group"/>) of one image: <paramref name="input"/> holds its <paramref name="c"/>
    /// channels <paramref name="inPlane"/> floats apart, of which the first <paramref name="p"/> positions are read;
    /// <paramref name="output"/> its <paramref name="m"/> filters <paramref name="outPlane"/> apart. <paramref name="scratch"/> holds
    /// <see cref="ScratchFloats"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* weights, float* bias, float* input, nint inPlane, int c, int p, float* output, nint outPlane, int m,
        in FusedActivation act, int panel0, int panel1, int block0, int block1, float* scratch)
    {
        int blocks = block1 - block0, kc = Gemm.DepthBlock(c);
        float* packed = scratch, tiles = packed + (nint)blocks * Positions * c, zeros = tiles + blocks * Positions * Filters;
        new Span<float>(zeros, Positions).Clear();
        PackPositions(input, inPlane, c, p, block0, block1, packed);
        var store = new Store(tiles, bias, output, outPlane, m, p, block0, block1);
        // The next panel's weights asked for (to L2) a slice before each tile: inside a network they come from memory, and a
        // panel's first tiles waited on them (320 -> 1280 on 7x7, one thread, AMD EPYC Zen 3: 0.74-0.76 -> 0.50-0.55 ms).
        int lines = c * Filters * sizeof(float) / 64, calls = blocks * ((c + kc - 1) / kc), perCall = (lines + calls - 1) / calls;
        for (int panel = panel0; panel < panel1; panel++)
        {
            float* w = weights + (nint)panel * c * Filters;
            byte* ahead = panel + 1 < panel1 ? (byte*)(w + (nint)c * Filters) : null, aheadEnd = ahead + (nint)lines * 64;
            for (int k0 = 0; k0 < c; k0 += kc)
            {
                int depth = Math.Min(kc, c - k0);
                for (int b = 0; b < blocks; b++)
                {
                    if (ahead is not null)
                    {
                        for (int l = 0; l < perCall && ahead < aheadEnd; l++, ahead += 64) Sse.Prefetch2(ahead);
                    }

                    int rows = Math.Min(Positions, p - (block0 + b) * Positions);
                    MicroKernel256.Run(depth, packed + ((nint)b * c + k0) * Positions, w + (nint)k0 * Filters, zeros, tiles + b * Positions * Filters,
                        Filters, rows, accumulate: k0 > 0, relu: false);
                }
            }

            store.Panel = panel;
            TileActivation.Run(act, ref store);
        }
    }

    /// <summary>Blocks [block0, block1) of positions as [block][C][8], positions past P zero.</summary>
    private static void PackPositions(float* input, nint inPlane, int c, int p, int block0, int block1, float* packed)
    {
        for (int b = block0; b < block1; b++)
        {
            int q = b * Positions, valid = Math.Min(Positions, p - q);
            float* src = input + q, dst = packed + (nint)(b - block0) * c * Positions;
            if (valid == Positions)
            {
                for (int ch = 0; ch < c; ch++) Vector256.Load(src + ch * inPlane).Store(dst + ch * Positions);
                continue;
            }

            for (int ch = 0; ch < c; ch++)
            {
                int r = 0;
                for (; r < valid; r++) dst[ch * Positions + r] = src[ch * inPlane + r];
                for (; r < Positions; r++) dst[ch * Positions + r] = 0f;
            }
        }
    }

    /// <summary>One panel's result tiles ([block][8 positions][24 filters]) stored as filter rows with the bias added and
    /// the activation applied: each 8 x 8 corner transposed in registers, only valid filters and positions written (nothing
    /// past a plane's last position: it may be the next filter's row, or another thread's).</summary>
    private struct Store(float* tiles, float* bias, float* output, nint outPlane, int m, int p, int block0, int block1) : ITileStore
    {
        public int Panel;

        public readonly void Run<TAct>(float lo, float hi) where TAct : struct, IUnaryOperator
        {
            Vector256<float> l = Vector256.Create(lo), h = Vector256.Create(hi);
            for (int v = 0; v < Filters; v += 8)
            {
                int f = Panel * Filters + v, filters = Math.Min(8, m - f);
                if (filters <= 0) return;
                float* b = bias + f;
                for (int blk = block0; blk < block1; blk++)
                {
                    int q = blk * Positions, valid = Math.Min(Positions, p - q);
                    Transpose8.Load(tiles + (blk - block0) * Positions * Filters + v, Filters,
                        out var r0, out var r1, out var r2, out var r3, out var r4, out var r5, out var r6, out var r7);
                    float* to = output + f * outPlane + q;
                    Lanes256.StoreFirst(to, TileActivation.Apply<TAct>(r0, Vector256.Create(b[0]), l, h), valid);
                    if (filters == 1) continue;
                    Lanes256.StoreFirst(to + outPlane, TileActivation.Apply<TAct>(r1, Vector256.Create(b[1]), l, h), valid);
                    if (filters == 2) continue;
                    Lanes256.StoreFirst(to + 2 * outPlane, TileActivation.Apply<TAct>(r2, Vector256.Create(b[2]), l, h), valid);
                    if (filters == 3) continue;
                    Lanes256.StoreFirst(to + 3 * outPlane, TileActivation.Apply<TAct>(r3, Vector256.Create(b[3]), l, h), valid);
                    if (filters == 4) continue;
                    Lanes256.StoreFirst(to + 4 * outPlane, TileActivation.Apply<TAct>(r4, Vector256.Create(b[4]), l, h), valid);
                    if (filters == 5) continue;
                    Lanes256.StoreFirst(to + 5 * outPlane, TileActivation.Apply<TAct>(r5, Vector256.Create(b[5]), l, h), valid);
                    if (filters == 6) continue;
                    Lanes256.StoreFirst(to + 6 * outPlane, TileActivation.Apply<TAct>(r6, Vector256.Create(b[6]), l, h), valid);
                    if (filters == 7) continue;
                    Lanes256.StoreFirst(to + 7 * outPlane, TileActivation.Apply<TAct>(r7, Vector256.Create(b[7]), l, h), valid);
                }
            }
        }
    }
}
