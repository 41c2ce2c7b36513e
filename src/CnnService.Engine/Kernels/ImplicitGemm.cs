using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Kernels;

// Legend: see IMicroKernel.cs. Here Hp, Wp are the padded input's height and width, and Q = OH*Wp
// the "wide" output positions of one image: q = y*Wp + x, of which those with x >= OW are discarded.

/// <summary>
/// Convolution as a GEMM that never packs B, for stride 1 on wide maps. On the wide output grid,
/// B[k, q] = input[c, y + ki, x + kj] = input[off(k) + q] with off(k) = (c*Hp + ki)*Wp + kj, so
/// each row of a panel (32 columns with AVX-512, 24 with AVX2) is a contiguous slice of the padded input:
/// the micro-kernel reads it in place through a table of K offsets made at load time. The price is the
/// kw - 1 discarded columns per row (none with AVX2 on a 3x3 kernel's rows a whole number of vectors wide: <see cref="Aligned"/>),
/// which is why the plan uses it on maps a panel plus kw wide (with AVX2 and
/// few filters, on narrower ones too: <see cref="Suits"/>).
/// With AVX2 the alternative, packing im2col panels, took as long as the multiply-adds on TinyVGG's
/// 10-filter layers (40 % of a pass against the micro-kernel's 47 %), where each packed value serves 10 rows.
/// </summary>
internal static unsafe class ImplicitGemm
{
    /// <summary>Columns of a panel at <paramref name="simd"/>: the micro-kernel's (Vector512 or Vector256).</summary>
    public static int PanelWidth(SimdLevel simd) => simd == SimdLevel.Vector512 ? MicroKernel512.NR : MicroKernel256.NR;

    /// <summary>Deepest K run without a break. Depth blocks exist to keep a packed B block in L1;
    /// here B is read in place, so a block boundary only costs a reload and store of every C tile
    /// (about 3 points of peak on 3x3 64->64). Up to 2048 rows, a panel's B rows (2048 x 128 bytes)
    /// stay in L2 while the MR-row panels of A sweep them; deeper layers fall back to blocks.</summary>
    public const int MaxFullDepth = 2048;

    /// <summary>
    /// The depth block of a panel <paramref name="nr"/> wide: with AVX-512's 32 columns all of K when it is at most
    /// <see cref="MaxFullDepth"/>, else the GEMM's blocks; with AVX2's 24 always the GEMM's blocks (at most 256 rows, 24 KB),
    /// since its tile reads each B row twice, once per half: held in L1 the 3x3 64->64 layer ran at 82 % of the Vector256
    /// peak, not 71 % (Zen 4 as an AVX2-only CPU, one thread, 16-column panels).
    /// </summary>
    internal static int DepthBlock(int nr, int k) => nr == MicroKernel512.NR && k <= MaxFullDepth ? k : Gemm.DepthBlock(k);

    /// <summary>
    /// Whether a stride-1 convolution of <paramref name="m"/> filters over a padded width <paramref name="wp"/> and kernel width
    /// <paramref name="kw"/> should take this path at <paramref name="simd"/> (Vector512 or Vector256): a row at least a panel and
    /// a kernel wide, and at most 1/16 of the columns discarded; at Vector256 with fewer than 32 filters up to 1/8, since there
    /// packing im2col's panels costs as much as the multiply-adds it feeds (AMD Zen 4, one thread, Vector256, with their
    /// 28- and 26-wide layers on this path: TinyVGG 1.17-1.19x the images/s, LeNet-5, its first layer, 1.14-1.28x, with 8-column
    /// panels; with 16, as an AVX2-only CPU, TinyVGG 1.09-1.17x and LeNet-5 1.03-1.24x at batch 1 and 64). Spatial kernels on rows
    /// narrower than that, with so few filters, up to a third: packing copies a run per output row a panel crosses, and LeNet-5's second layer
    /// (14 wide, 5x5, 16 filters: 4 of 14 columns discarded) ran its pass 1.16x as fast at batch 1 and 1.07x at batch 64 in place
    /// (AMD EPYC Zen 3, one thread, alternated in one process).
    /// </summary>
    public static bool Suits(SimdLevel simd, int m, int wp, int kw)
    {
        bool wide = wp >= PanelWidth(simd) + kw;
        if (simd == SimdLevel.Vector256 && m < 32) return wide ? (kw - 1) * 8 <= wp : kw > 1 && (kw - 1) * 3 <= wp;
        return wide && (kw - 1) * 16 <= wp;
    }

    /// <summary>off(k) for k = (c, ki, kj) in order, then K more: k * NR, the rows of a panel copied out (see <see cref="Run"/>).</summary>
    public static nint[] Offsets(SimdLevel simd, int c, int hp, int wp, int kh, int kw)
    {
        int depth = c * kh * kw, nr = PanelWidth(simd);
        nint[] offsets = GC.AllocateArray<nint>(2 * depth, pinned: true);
        int k = 0;
        for (int ci = 0; ci < c; ci++)
            for (int ki = 0; ki < kh; ki++)
                for (int kj = 0; kj < kw; kj++) offsets[k++] = ((nint)ci * hp + ki) * wp + kj;
        for (int kk = 0; kk < depth; kk++) offsets[depth + kk] = (nint)kk * nr;
        return offsets;
    }

    /// <summary>Panels of one image: its wide positions in groups of the panel width, or its output positions when the panels
    /// are aligned (<see cref="Aligned"/>).</summary>
    public static int PanelsPerImage(SimdLevel simd, int oh, int ow, int wp, int kw) =>
        ((Aligned(PanelWidth(simd), ow, kw) ? oh * ow : oh * wp) + PanelWidth(simd) - 1) / PanelWidth(simd);

    /// <summary>
    /// Whether a panel <paramref name="nr"/> wide takes output positions in order rather than wide ones: with AVX2, a 3x3 kernel
    /// over output rows a whole number of vectors wide (56, 112). Each of a panel's three vectors then lies inside one output
    /// row, read from where that row sits in the padded input (<see cref="TapRows3"/>'s second and third vectors): no column is
    /// discarded (2 of 58 on a 56-wide map), and every tile but an image's last is stored in place, none through a tile. Against
    /// the wide grid, alternated in one process by the median window (AMD EPYC Zen 3, a busy host): the conv pair 1.055x at batch
    /// 1 and 1.05x at batch 64 on two threads, 1.07x at batch 8 on one; resnet18 1.067x at batch 1 and 1.036x at batch 8.
    /// </summary>
    private static bool Aligned(int nr, int ow, int kw) => nr == MicroKernel256.NR && kw == 3 && ow % Vector256<float>.Count == 0;

    /// <summary>Floats of per-thread scratch: one tile per row panel of A, then a depth block of B rows copied out.</summary>
    public static long ScratchFloats(SimdLevel simd, PackedMatrix a) => ((long)a.Panels * PackedMatrix.MR + DepthBlock(PanelWidth(simd), a.K)) * PanelWidth(simd);

    /// <summary>Computes panels [panelStart, panelEnd) of the batch of <paramref name="images"/> at <paramref name="input"/> (image n's
    /// panels are n*PanelsPerImage onwards) into NCHW <paramref name="c"/> with <paramref name="simd"/>'s micro-kernel (Vector512
    /// or Vector256). <paramref name="scaledA"/>, when given, is read instead of A's panels: A with its columns scaled for these
    /// images (<see cref="PackedMatrix.ScaleColumns"/>).</summary>
    public static void Run(SimdLevel simd, PackedMatrix a, float* input, int images, nint* offsets, int channels, int hp, int wp, int kw, int oh, int ow, float* c, bool relu,
        int panelStart, int panelEnd, float* tiles, float* scaledA = null)
    {
        if (simd == SimdLevel.Vector512) Run<MicroKernel512>(a, input, images, offsets, channels, hp, wp, kw, oh, ow, c, relu, panelStart, panelEnd, tiles, scaledA);
        else Run<MicroKernel256>(a, input, images, offsets, channels, hp, wp, kw, oh, ow, c, relu, panelStart, panelEnd, tiles, scaledA);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TKernel>(PackedMatrix a, float* input, int images, nint* offsets, int channels, int hp, int wp, int kw, int oh, int ow, float* c, bool relu,
        int panelStart, int panelEnd, float* tiles, float* scaledA) where TKernel : struct, IRowMicroKernel
    {
        int m = a.M, k = a.K, nr = TKernel.NR, kc = DepthBlock(nr, k), mr = PackedMatrix.MR;
        bool aligned = Aligned(nr, ow, kw);
        int q = oh * wp, p = oh * ow, perImage = ((aligned ? p : q) + nr - 1) / nr;
        nint imageFloats = (nint)channels * hp * wp, reach = offsets[k - 1] + nr; // a panel reads [q0, q0 + reach) of its image
        float* copied = tiles + (nint)a.Panels * mr * nr;
        // A 3x3 kernel's taps along a row are three rows of B one float apart: with AVX2 the micro-kernel takes them from one
        // address (TapRows3), each depth block starting at a tap 0 (rounded down to whole kernel rows, so no larger than the scratch).
        bool taps3 = nr == MicroKernel256.NR && kw == 3;
        if (taps3) kc -= kc % 3;
        // A 1x1 kernel's rows are whole planes apart, three to an address too, and with no offset table to read (ChannelRows):
        // at batch 1 on two threads squeezenet1_1 1.08x and mobilenet_v2 1.09x by the median of alternated windows,
        // efficientnet_b0 alike (AMD EPYC Zen 3, a busy host).
        bool planes = nr == MicroKernel256.NR && k == channels;
        nint plane = (nint)hp * wp;
        fixed (float* packed = a.Data, bias = a.Bias)
        {
            float* aData = scaledA != null ? scaledA : packed;
            int runLength = wp == ow && k <= kc ? RunLength(nr, k) : 1;
            for (int panelIndex = panelStart; panelIndex < panelEnd; panelIndex++)
            {
                int n = panelIndex / perImage, q0 = (panelIndex - n * perImage) * nr;
                int run = Math.Min(Math.Min(runLength, panelEnd - panelIndex), perImage - 1 - (panelIndex - n * perImage));
                if (run > 1)
                {
                    PanelRun<TKernel>(aData, m, k, input + n * imageFloats + q0, offsets, planes ? plane : 0, bias, c + (nint)n * m * p + q0, p, nr, run, relu);
                    panelIndex += run - 1;
                    continue;
                }

                if (aligned)
                {
                    AlignedPanel<TKernel>(aData, m, k, kc, input + n * imageFloats, offsets, bias, c + (nint)n * m * p, p, q0, ow, wp, relu, tiles);
                    continue;
                }

                int y0 = q0 / wp, x0 = q0 - y0 * wp;
                // A panel writes its columns straight into the output when they are one run of it: inside one row, or anywhere
                // in a 1x1 layer's plane (W' = OW: no column is discarded, so the grid is the output). A panel across rows
                // otherwise goes through a tile, one copy per row and filter: on 1x1 layers over 112-, 56- and 55-wide maps
                // (MobileNet V2, EfficientNet-B0, SqueezeNet) half their panels or more, 0.4-1 % of a pass.
                bool inPlace = (wp == ow || x0 + nr <= ow) && q0 + nr <= q;
                float* origin = input + n * imageFloats + q0;
                float* cImage = c + (nint)n * m * p;

                // An image's last panel reads up to kw + NR - 2 floats past it (columns past the grid, discarded): into the next
                // image, but the last image may end where the caller's memory does, so its last panel reads a copy of its rows,
                // zero past the image (copying every image's cost TinyVGG 2 % at batch 64: a panel of K = 90 copies 11 KB).
                bool copy = n == images - 1 && q0 + reach > imageFloats;
                for (int k0 = 0; k0 < k; k0 += kc)
                {
                    int depth = Math.Min(kc, k - k0);
                    bool first = k0 == 0, last = k0 + depth == k;
                    float* aBlock = aData + (nint)k0 * mr, cTile = inPlace ? cImage + y0 * ow + x0 : tiles;
                    int ldc = inPlace ? p : nr;
                    if (copy) RowPanels<TKernel, OffsetRows>(CopyRows(origin, offsets + k0, depth, nr, imageFloats - q0, copied, offsets + k), depth, aBlock, m, k, bias, cTile, ldc, !first, relu && last);
                    else if (taps3) RowPanels<TKernel, TapRows3>(new TapRows3(origin, offsets + k0), depth, aBlock, m, k, bias, cTile, ldc, !first, relu && last);
                    else if (planes) RowPanels<TKernel, ChannelRows>(new ChannelRows(origin + k0 * plane, plane), depth, aBlock, m, k, bias, cTile, ldc, !first, relu && last);
                    else RowPanels<TKernel, OffsetRows>(new OffsetRows(origin, offsets + k0), depth, aBlock, m, k, bias, cTile, ldc, !first, relu && last);
                }

                if (!inPlace) Scatter(tiles, nr, m, cImage, p, q0, Math.Min(nr, q - q0), wp, ow);
            }
        }
    }

    /// <summary>
    /// The aligned panel of output positions [<paramref name="p0"/>, p0 + NR) of one image (<see cref="Aligned"/>): its vectors
    /// read from their rows' places in <paramref name="image"/>, the tiles stored into <paramref name="c"/> (the image's output) in
    /// place, or, for an image's last and shorter panel, through <paramref name="tiles"/>. A vector past the image's positions
    /// reads the first one's inputs again (inside the image; its sums are not kept).
    /// </summary>
    private static void AlignedPanel<TKernel>(float* a, int m, int k, int kc, float* image, nint* offsets, float* bias, float* c, int p, int p0, int ow, int wp,
        bool relu, float* tiles) where TKernel : struct, IRowMicroKernel
    {
        int nr = TKernel.NR, valid = Math.Min(nr, p - p0), step = Vector256<float>.Count;
        nint first = Wide(p0, ow, wp);
        nint second = valid > step ? Wide(p0 + step, ow, wp) - first : 0, third = valid > 2 * step ? Wide(p0 + 2 * step, ow, wp) - first : 0;
        bool inPlace = valid == nr;
        for (int k0 = 0; k0 < k; k0 += kc)
        {
            int depth = Math.Min(kc, k - k0);
            RowPanels<TKernel, TapRows3>(new TapRows3(image + first, offsets + k0, second, third), depth, a + (nint)k0 * PackedMatrix.MR, m, k, bias,
                inPlace ? c + p0 : tiles, inPlace ? p : nr, k0 > 0, relu && k0 + depth == k);
        }

        if (!inPlace) Scatter(tiles, nr, m, c, p, p0, valid, ow, ow);
    }

    /// <summary>Where output position <paramref name="position"/> (y * OW + x) sits on the wide grid: y * W' + x.</summary>
    private static nint Wide(int position, int ow, int wp) => (nint)(position / ow) * wp + position % ow;

    /// <summary>Every row panel of A (<paramref name="aBlock"/>: its first at the depth block's first step) times the rows of one
    /// depth block, into C from <paramref name="c"/> (row panel i0 at c + i0 * ldc).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowPanels<TKernel, TRows>(TRows rows, int depth, float* aBlock, int m, int k, float* bias, float* c, int ldc, bool accumulate, bool relu)
        where TKernel : struct, IRowMicroKernel
        where TRows : struct, IRowSource
    {
        for (int i0 = 0; i0 < m; i0 += PackedMatrix.MR)
            TKernel.Run(depth, aBlock + (nint)i0 * k, rows, bias + i0, c + (nint)i0 * ldc, ldc, Math.Min(PackedMatrix.MR, m - i0), accumulate, relu);
    }

    /// <summary>Floats of B rows a run of panels reads (<see cref="RunLength"/>): 24 KB, most of a 32 KB L1.</summary>
    private const int RunFloats = 6 << 10;

    /// <summary>
    /// Panels a 1x1 layer's plane takes as one run (<see cref="PanelRun"/>) with AVX2, at a depth of <paramref name="k"/>: as many as
    /// keep their B rows in L1, at most 16; 1 below eight (K above 32). Panel by panel, every panel stores its 24 positions into all M output
    /// planes (MobileNet V2's 16 -> 96 expansion at 112x112: 96 output streams of 96 bytes); a run stores each 4-filter row panel's
    /// positions of all its panels in a row. Runs of 16 against panel by panel, per layer at batch 1 on one thread (AMD EPYC Zen
    /// 3, alternated in one process): MobileNet V2's 16 -> 96 at 112x112 1.44x (runs of 8: 1.34x), 32 -> 16 at 112x112 1.01-1.15x,
    /// 24 -> 144 at 56x56 1.03-1.13x, SqueezeNet's 16 -> 64 at 55x55 1.22-1.29x; at K = 64 in runs of 4 0.99x, at K = 96 and 144
    /// in runs of 2 or 1 0.94-1.0x, where a run's B rows leave L1. Not measured with AVX-512, which keeps panel by panel.
    /// </summary>
    private static int RunLength(int nr, int k)
    {
        int run = nr == MicroKernel256.NR ? RunFloats / (k * nr) : 1;
        return run >= 8 ? Math.Min(run, 16) : 1;
    }

    /// <summary>
    /// <paramref name="run"/> whole panels of one image from <paramref name="origin"/>, none its last, of a layer whose grid is its
    /// output (W' = OW) and whose depth is one block: each row panel of A across all of them before the next, the outputs from
    /// <paramref name="c"/> stored in place. Each tile the same sums, in the same order, as panel by panel. A 1x1 layer's rows are
    /// read <paramref name="plane"/> apart (<see cref="ChannelRows"/>); with <paramref name="plane"/> 0 through the offsets.
    /// </summary>
    private static void PanelRun<TKernel>(float* a, int m, int k, float* origin, nint* offsets, nint plane, float* bias, float* c, int p, int nr, int run, bool relu)
        where TKernel : struct, IRowMicroKernel
    {
        for (int i0 = 0; i0 < m; i0 += PackedMatrix.MR)
        {
            float* aBlock = a + (nint)i0 * k, cRows = c + (nint)i0 * p;
            int valid = Math.Min(PackedMatrix.MR, m - i0);
            for (int j = 0; j < run; j++)
            {
                if (plane != 0) TKernel.Run(k, aBlock, new ChannelRows(origin + (nint)j * nr, plane), bias + i0, cRows + (nint)j * nr, p, valid, false, relu);
                else TKernel.Run(k, aBlock, new OffsetRows(origin + (nint)j * nr, offsets), bias + i0, cRows + (nint)j * nr, p, valid, false, relu);
            }
        }
    }

    /// <summary>Rows [0, <paramref name="depth"/>) of a panel at <paramref name="origin"/>, each NR floats from its offset, copied to
    /// <paramref name="copied"/> ([depth][NR]) with only the floats before <paramref name="left"/> (the image's end, from
    /// <paramref name="origin"/>) read, the rest zero; read back through <paramref name="packedOffsets"/> (k * NR).</summary>
    private static OffsetRows CopyRows(float* origin, nint* offsets, int depth, int nr, nint left, float* copied, nint* packedOffsets)
    {
        for (int kk = 0; kk < depth; kk++)
        {
            // Masked loads: the lanes past the image are neither read nor faulted on, and come back zero. A copy and a clear
            // cost a call each per row: LeNet-5's first layer at batch 1 took 0.016 ms with them, 0.013 now (one thread, Zen 3).
            nint inside = left - offsets[kk];
            float* from = origin + offsets[kk], row = copied + (nint)kk * nr;
            for (int j = 0; j < nr; j += Vector256<float>.Count) Vector256.Store(Lanes256.LoadFirst(from + j, (int)Math.Clamp(inside - j, 0, nr)), row + j);
        }

        return new OffsetRows(copied, packedOffsets);
    }

    /// <summary>Copies the kept columns (x &lt; OW) of <paramref name="rows"/> tile rows (filter r at tile + r * NR: the row panels'
    /// tiles one after another) to their output rows, one run per output row.</summary>
    private static void Scatter(float* tile, int nr, int rows, float* c, int p, int q0, int count, int wp, int ow)
    {
        int y = q0 / wp, x = q0 - y * wp;
        for (int jj = 0; jj < count; y++, x = 0)
        {
            int run = Math.Min(count - jj, wp - x), kept = Math.Min(run, ow - x);
            for (int r = 0; kept > 0 && r < rows; r++)
            {
                new ReadOnlySpan<float>(tile + r * nr + jj, kept).CopyTo(new Span<float>(c + (nint)r * p + y * ow + x, kept));
            }

            jj += run;
        }
    }
}
