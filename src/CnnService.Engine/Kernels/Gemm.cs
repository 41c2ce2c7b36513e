using System.Runtime.CompilerServices;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Kernels;

// Legend: see IMicroKernel.cs. Here C is the layer's NCHW output: column j of the GEMM is
// output position p of image n (j = n*P + p), row i is output channel i, so C[i, j] lives at
// n*M*P + i*P + p. A dense layer is the case P = 1.

/// <summary>
/// The GEMM driver: C = relu?(A * B + bias) over a range of B's column panels. For each panel it
/// packs B once (K x NR, small enough for L2), then sweeps every MR-row panel of A across it.
/// A tile that lies inside one image is written straight into C; a tile that is cut short (the
/// last rows of M, the last columns, or columns that straddle two images) is computed into a
/// small stack tile and scattered. A tile with fewer than MR valid rows is still written in place:
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

    /// <summary>Floats of scratch one thread needs: one packed B panel, plus one row of slack
    /// because packers may write a whole vector past a row's last column (the next row, or this
    /// slack, is written after).</summary>
    public static long PanelFloats(int k, SimdLevel level) => ((long)k + 1) * PanelWidth(level);

    /// <summary>Computes column panels [panelStart, panelEnd) of C.</summary>
    public static void Run<TPacker>(SimdLevel level, PackedMatrix a, TPacker packer, int cols, float* c, int p, bool relu, int panelStart, int panelEnd, float* panel)
        where TPacker : struct, IPanelPacker
    {
        switch (level)
        {
            case SimdLevel.Vector512: Run<MicroKernel512, TPacker>(a, packer, cols, c, p, relu, panelStart, panelEnd, panel); break;
            case SimdLevel.Vector256: Run<MicroKernel256, TPacker>(a, packer, cols, c, p, relu, panelStart, panelEnd, panel); break;
            default: Run<MicroKernelScalar, TPacker>(a, packer, cols, c, p, relu, panelStart, panelEnd, panel); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TKernel, TPacker>(PackedMatrix a, TPacker packer, int cols, float* c, int p, bool relu, int panelStart, int panelEnd, float* panel)
        where TKernel : struct, IMicroKernel
        where TPacker : struct, IPanelPacker
    {
        int nr = TKernel.NR, mr = TKernel.MR, m = a.M, k = a.K;
        float* tile = stackalloc float[mr * nr];
        fixed (float* aData = a.Data, bias = a.Bias)
        {
            for (int panelIndex = panelStart; panelIndex < panelEnd; panelIndex++)
            {
                int j0 = panelIndex * nr;
                int count = Math.Min(nr, cols - j0);
                packer.Pack(j0, count, panel, nr);

                int n = j0 / p, p0 = j0 - n * p;
                bool insideOneImage = count == nr && p0 + nr <= p;
                float* cImage = c + (nint)n * m * p + p0;
                for (int i0 = 0; i0 < m; i0 += mr)
                {
                    float* aPanel = aData + (nint)i0 * k;
                    int rows = Math.Min(mr, m - i0);
                    if (insideOneImage)
                    {
                        TKernel.Run(k, aPanel, panel, bias + i0, cImage + (nint)i0 * p, p, rows, relu);
                    }
                    else
                    {
                        TKernel.Run(k, aPanel, panel, bias + i0, tile, nr, rows, relu);
                        Scatter(tile, nr, rows, count, c, m, p, i0, j0);
                    }
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
