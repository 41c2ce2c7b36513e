using System.Runtime.CompilerServices;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Kernels;

// Legend: see IMicroKernel.cs. Here C is the layer's NCHW output: column j of the GEMM is
// output position p of image n (j = n*P + p), row i is output channel i, so C[i, j] lives at
// n*M*P + i*P + p. A dense layer is the case P = 1.

/// <summary>
/// The GEMM driver: C = relu?(A * B + bias) over a range of B's column panels. For each panel it
/// packs B one depth block at a time (at most 256 x NR, so it stays in L1) and sweeps every
/// MR-row panel of A across it, the tiles accumulating over the blocks.
/// A tile that lies inside one image is written straight into C; a tile that is cut short (the
/// last rows of M, the last columns, or columns that straddle two images) is computed into a
/// per-thread tile and scattered after the last block. A tile with fewer than MR valid rows is still written in place:
/// the kernel stores only the valid rows.
/// </summary>
internal static unsafe class Gemm
{
    /// <summary>Columns per panel of the kernel that <paramref name="level"/> selects.</summary>
    public static int PanelWidth(SimdLevel level) => level switch
    {
        SimdLevel.Vector512 => MicroKernel512.NR,
        SimdLevel.Vector256 => MicroKernel256.NR,
        _ => MicroKernelScalar.NR,
    };

    /// <summary>Deepest B block packed at once: 256 rows x 32 columns is 32 KB, which stays in L1
    /// beside the 8 KB of A it meets, however deep the layer (a dense layer's K runs to thousands).</summary>
    public const int MaxDepthBlock = 256;

    /// <summary>
    /// Floats of per-thread scratch: one packed B block plus one row of slack (packers may write
    /// a whole vector past a row's last column; the next row, or the slack, is written after),
    /// then one MR x NR tile per row panel of A for tiles that cannot be written in place.
    /// </summary>
    public static long ScratchFloats(PackedMatrix a, SimdLevel level) =>
        ((long)DepthBlock(a.K) + 1 + a.Panels * PackedMatrix.MR) * PanelWidth(level);

    /// <summary>K split into equal blocks of at most <see cref="MaxDepthBlock"/>: 576 is 3 x 192, not 256 + 256 + 64.</summary>
    internal static int DepthBlock(int k)
    {
        int blocks = (k + MaxDepthBlock - 1) / MaxDepthBlock;
        return (k + blocks - 1) / blocks;
    }

    /// <summary>Computes column panels [panelStart, panelEnd) of C, using <paramref name="scratch"/> (<see cref="ScratchFloats"/>);
    /// of A's row panels only [<paramref name="rowPanelStart"/>, <paramref name="rowPanelEnd"/>) when given (threads that
    /// split a single column panel by rows: each packs the panel itself, and every value is summed as without the split).</summary>
    public static void Run<TPacker>(SimdLevel level, PackedMatrix a, TPacker packer, int cols, float* c, int p, bool relu, int panelStart, int panelEnd, float* scratch,
        int rowPanelStart = 0, int rowPanelEnd = int.MaxValue)
        where TPacker : struct, IPanelPacker
    {
        int i0 = rowPanelStart * PackedMatrix.MR, i1 = (int)Math.Min(a.M, (long)rowPanelEnd * PackedMatrix.MR);
        switch (level)
        {
            case SimdLevel.Vector512: Run<MicroKernel512, TPacker>(a, packer, cols, c, p, relu, panelStart, panelEnd, scratch, i0, i1); break;
            case SimdLevel.Vector256: Run<MicroKernel256, TPacker>(a, packer, cols, c, p, relu, panelStart, panelEnd, scratch, i0, i1); break;
            default: Run<MicroKernelScalar, TPacker>(a, packer, cols, c, p, relu, panelStart, panelEnd, scratch, i0, i1); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TKernel, TPacker>(PackedMatrix a, TPacker packer, int cols, float* c, int p, bool relu, int panelStart, int panelEnd, float* scratch,
        int rowStart, int rowEnd)
        where TKernel : struct, IMicroKernel
        where TPacker : struct, IPanelPacker
    {
        int nr = TKernel.NR, mr = TKernel.MR, m = a.M, k = a.K, kc = DepthBlock(k);
        float* panel = scratch, tiles = scratch + (nint)(kc + 1) * nr;
        fixed (float* aData = a.Data, bias = a.Bias)
        {
            for (int panelIndex = panelStart; panelIndex < panelEnd; panelIndex++)
            {
                int j0 = panelIndex * nr;
                int count = Math.Min(nr, cols - j0);
                int n = j0 / p, p0 = j0 - n * p;
                bool insideOneImage = count == nr && p0 + nr <= p;
                float* cImage = c + (nint)n * m * p + p0;

                // Depth blocks accumulate into the same tiles: bias first, ReLU last.
                for (int k0 = 0; k0 < k; k0 += kc)
                {
                    int depth = Math.Min(kc, k - k0);
                    packer.Pack(j0, count, k0, depth, panel, nr);
                    bool first = k0 == 0, last = k0 + depth == k;
                    for (int i0 = rowStart; i0 < rowEnd; i0 += mr)
                    {
                        float* aBlock = aData + (nint)i0 * k + (nint)k0 * mr;
                        int rows = Math.Min(mr, m - i0);
                        if (insideOneImage) TKernel.Run(depth, aBlock, panel, bias + i0, cImage + (nint)i0 * p, p, rows, !first, relu && last);
                        else TKernel.Run(depth, aBlock, panel, bias + i0, tiles + (nint)i0 * nr, nr, rows, count, !first, relu && last);
                    }
                }

                if (!insideOneImage)
                {
                    for (int i0 = rowStart; i0 < rowEnd; i0 += mr) Scatter(tiles + (nint)i0 * nr, nr, Math.Min(mr, m - i0), count, c, m, p, i0, j0);
                }
            }
        }
    }

    /// <summary>Writes the valid rows x columns of a stack tile to their NCHW places, one run of
    /// columns per image (a dense layer's P = 1 makes every column its own image).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scatter(float* tile, int nr, int rows, int count, float* c, int m, int p, int i0, int j0)
    {
        int n = j0 / p, pp = j0 - n * p;
        for (int jj = 0; jj < count; n++, pp = 0)
        {
            int run = Math.Min(count - jj, p - pp);
            float* dst = c + ((nint)n * m + i0) * p + pp;
            for (int r = 0; r < rows; r++)
            {
                if (run == 1) dst[(nint)r * p] = tile[r * nr + jj];
                else new ReadOnlySpan<float>(tile + r * nr + jj, run).CopyTo(new Span<float>(dst + (nint)r * p, run));
            }

            jj += run;
        }
    }
}
