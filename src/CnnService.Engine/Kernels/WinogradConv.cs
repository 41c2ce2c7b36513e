using System.Runtime.CompilerServices;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Kernels;

/// <summary>
/// A 3x3 stride-1 convolution by <see cref="Winograd"/> F(4x4, 3x3), over a range of the batch's tiles (image by image, row
/// by row), a block of a few GEMM panels' width at a time (<see cref="BlockPanels"/>): the block's input tiles transformed
/// into 36 sets of packed B panels ([36][panel][C][NR], eight tiles a run, <see cref="Winograd256.InputRun"/>), the 36
/// products [M x C] x [C x tiles] by the GEMM's micro-kernel into [36][panel][M][NR], and every filter's tiles transformed
/// back into the NCHW output with the bias and ReLU. The block's panels (for 64 channels 221 KB each way a panel) stay in
/// L2 from one phase to the next; a run never crosses an image or a panel, nor a tile row unless it takes two whole rows of
/// four tiles, so a block's last panel may be part full, and its GEMM skips the empty columns.
/// The input is the padded batch (<paramref name="ph"/> x <paramref name="pw"/> planes): tiles past its bottom or right
/// edge (OH or OW not a multiple of 4) read zeros there and store only their positions inside OH x OW.
/// </summary>
internal static unsafe class WinogradConv
{
    /// <summary>Whether the lowering can run at this SIMD level on this CPU (the transforms are AVX2).</summary>
    public static bool Runs(SimdLevel simd) => simd is SimdLevel.Vector256 or SimdLevel.Vector512 && Winograd256.IsSupported;

    /// <summary>Whether the plan runs a 3x3 stride-1 layer this way unless measured otherwise: channels enough in and out for
    /// the GEMMs to outweigh the transforms, and a map of at least 4 x 4 tiles. On 7x7 maps (ResNet's last stage) a quarter of
    /// the 8 x 8 positions computed are dropped and the transformed weights, 4x the plain ones (38 MB for 512 -> 512), are
    /// read for 4 tiles: that stage was 1.3x slower than direct tiles (two threads, batch 1, Zen 3).</summary>
    public static bool Suits(int m, int c, int oh, int ow) => m >= 16 && c >= 16 && Winograd.TileRows(oh) >= 4 && Winograd.TileColumns(ow) >= 4;

    /// <summary>Panels of tiles a block takes at most: as many (up to 4) as keep its B panels and products within L2 (for 64
    /// channels in and out 442 KB a panel), so that each of the 36 transformed weight matrices is read once per block and
    /// meets the block's panels one after another. On Zen 3's 512 KB L2 that is one panel: blocks of four panels, 1.8 MB,
    /// made the conv pair 1.13-1.16x slower than one (one thread, batch 1 and 64, alternated in one process).</summary>
    public static int BlockPanels(SimdLevel simd, int c, int m)
    {
        long perPanel = (long)Winograd.Points * Gemm.PanelWidth(simd) * (c + Padded(m)) * sizeof(float);
        return (int)Math.Clamp(BatchChunking.L2Bytes / perPanel, 1, MaxBlockPanels);
    }

    /// <summary>Floats of per-thread scratch: a block's B panels and products (and a vector of slack: a run's last loads read
    /// past its panel's row), the transforms' scratch, and a zero row as wide as the padded input.</summary>
    public static long ScratchFloats(SimdLevel simd, int c, int m, int pw)
    {
        int nr = Gemm.PanelWidth(simd), mPad = Padded(m);
        return (long)Winograd.Points * (nr * BlockPanels(simd, c, m) * (c + mPad) + 2 * PointSkew) + 8 + Winograd256.ScratchFloats + pw + 16;
    }

    private const int MaxBlockPanels = 4;

    /// <summary>Ints a run takes in the block's list of runs.</summary>
    private const int RunInts = 6;

    /// <summary>Floats between one point's panels and the next's beyond their size: a run's 36 stores (and loads) go one to
    /// each point, and at a whole number of 4 KB apart (64 channels by 24 tiles: 6 KB) they would fall into the same two
    /// sets of the L1 and evict one another.</summary>
    private const int PointSkew = 16;

    private static int Padded(int m) => (m + PackedMatrix.MR - 1) / PackedMatrix.MR * PackedMatrix.MR;

    /// <summary>Tiles [<paramref name="tileStart"/>, <paramref name="tileEnd"/>) of the batch's N * TH * TW, filters in row
    /// panels [<paramref name="panelStart"/>, <paramref name="panelEnd"/>) of MR: threads split the tiles, or, when there are
    /// few (a 14x14 map has 16), the filters, each then transforming every input tile itself.</summary>
    public static void Run(SimdLevel simd, float* u, float* zeros, float* bias, int m, int c, float* input, int ph, int pw, int oh, int ow,
        float* output, bool relu, int tileStart, int tileEnd, int panelStart, int panelEnd, float* scratch)
    {
        if (simd == SimdLevel.Vector512) Run<MicroKernel512>(BlockPanels(simd, c, m), u, zeros, bias, m, c, input, ph, pw, oh, ow, output, relu, tileStart, tileEnd, panelStart, panelEnd, scratch);
        else Run<MicroKernel256>(BlockPanels(simd, c, m), u, zeros, bias, m, c, input, ph, pw, oh, ow, output, relu, tileStart, tileEnd, panelStart, panelEnd, scratch);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TKernel>(int blockPanels, float* u, float* zeros, float* bias, int m, int c, float* input, int ph, int pw, int oh, int ow,
        float* output, bool relu, int tileStart, int tileEnd, int panelStart, int panelEnd, float* scratch)
        where TKernel : struct, IMicroKernel
    {
        int nr = TKernel.NR, mr = TKernel.MR, mPad = Padded(m);
        int i0Start = panelStart * mr, i0End = Math.Min(m, panelEnd * mr);
        int tw = Winograd.TileColumns(ow), perImage = Winograd.TilesPerImage(oh, ow);
        nint vPanel = (nint)c * nr, mPanel = (nint)mPad * nr;
        nint vPoint = blockPanels * vPanel + PointSkew, mPoint = blockPanels * mPanel + PointSkew;
        nint uPoint = (nint)mPad * c, inPlane = (nint)ph * pw, outPlane = (nint)oh * ow;
        float* v = scratch, products = v + Winograd.Points * vPoint, runScratch = products + Winograd.Points * mPoint + 8;
        float* zeroRow = runScratch + Winograd256.ScratchFloats;
        new Span<float>(zeroRow, pw).Clear();
        int* runs = stackalloc int[RunInts * MaxBlockPanels * nr];
        float** inputRows = stackalloc float*[10];

        // Blocks of equal size: 49 tiles in blocks of at most 48 are 25 and 24, not 48 and a lone one.
        int total = tileEnd - tileStart, panels = (total + nr - 1) / nr, blocks = (panels + blockPanels - 1) / blockPanels;
        for (int block = 0; block < blocks; block++)
        {
            int b0 = tileStart + (int)((long)total * block / blocks), b1 = tileStart + (int)((long)total * (block + 1) / blocks);

            // Runs of tiles: one image, one tile row, one panel, at most eight; or, on maps four tiles wide, two whole tile rows
            // (half-full runs there spent as much on the transforms as full ones). As (image, tile row, tile column, count,
            // slot, rows paired).
            int runCount = 0;
            for (int g = b0; g < b1; runCount++)
            {
                int slot = g - b0, col = slot % nr;
                int n = g / perImage, t = g - n * perImage, ty = t / tw, tx = t - ty * tw;
                int count = Math.Min(Math.Min(8, tw - tx), Math.Min(b1 - g, nr - col));
                bool paired = tw == 4 && tx == 0 && t + 8 <= perImage && g + 8 <= b1 && col + 8 <= nr;
                if (paired) count = 8;
                int* run = runs + RunInts * runCount;
                run[0] = n; run[1] = ty; run[2] = tx; run[3] = count; run[4] = slot; run[5] = paired ? 1 : 0;
                g += count;
            }

            // Input: channel by channel, each run, so that a channel's rows of the 36 points' panels stay in L1 from run to run.
            for (int ch = 0; ch < c; ch++)
            {
                for (int r = 0; r < runCount; r++)
                {
                    int* run = runs + RunInts * r;
                    int y0 = run[1] * Winograd.Tile, slot = run[4];
                    float* plane = input + ((nint)run[0] * c + ch) * inPlane;
                    for (int j = 0; j < (run[5] != 0 ? 10 : 6); j++) inputRows[j] = y0 + j < ph ? plane + (nint)(y0 + j) * pw : zeroRow;
                    Winograd256.InputRun(inputRows, run[2] * Winograd.Tile, pw, run[3], run[5] != 0, v + slot / nr * vPanel + (nint)ch * nr + slot % nr, vPoint, runScratch);
                }
            }

            // The 36 products, M x C by C x tiles each: a row panel of one matrix meets every panel of the block in turn.
            int blockTiles = b1 - b0;
            for (int xi = 0; xi < Winograd.Points; xi++)
            {
                float* a = u + xi * uPoint, bPoint = v + xi * vPoint, cPoint = products + xi * mPoint;
                for (int i0 = i0Start; i0 < i0End; i0 += mr)
                {
                    int rows = Math.Min(mr, m - i0);
                    for (int p = 0, j0 = 0; j0 < blockTiles; p++, j0 += nr)
                    {
                        float* bPanel = bPoint + p * vPanel, cTile = cPoint + p * mPanel + (nint)i0 * nr;
                        if (blockTiles - j0 >= nr) TKernel.Run(c, a + (nint)i0 * c, bPanel, zeros, cTile, nr, rows, false, false);
                        else TKernel.Run(c, a + (nint)i0 * c, bPanel, zeros, cTile, nr, rows, blockTiles - j0, false, false);
                    }
                }
            }

            // Output: filter by filter (the chunk's), each run: a filter's rows of the 36 points' products stay in L1 from run to run.
            for (int i = i0Start; i < i0End; i++)
            {
                for (int r = 0; r < runCount; r++)
                {
                    int* run = runs + RunInts * r;
                    int y0 = run[1] * Winograd.Tile, x0 = run[2] * Winograd.Tile, slot = run[4];
                    int rows = Math.Min(Winograd.Tile, oh - y0), columns = Math.Min(Winograd.Tile * run[3], ow - x0);
                    float* to = output + ((nint)run[0] * m + i) * outPlane + (nint)y0 * ow + x0, from = products + slot / nr * mPanel + (nint)i * nr + slot % nr;
                    if (run[5] != 0)
                    {
                        int width = Math.Min(16, ow), below = Math.Min(Winograd.Tile, oh - y0 - Winograd.Tile);
                        Winograd256.OutputRun(from, mPoint, bias[i], relu, to, ow, rows, width, to + Winograd.Tile * ow, below, width, runScratch);
                    }
                    else Winograd256.OutputRun(from, mPoint, bias[i], relu, to, ow, rows, Math.Min(columns, 16), to + 16, rows, columns - 16, runScratch);
                }
            }
        }
    }

}
