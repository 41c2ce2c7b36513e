using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnService.Engine.Kernels;

/// <summary>
/// 8 x 16 tile with AVX2 + FMA, run as two 4 x 16 halves (rows 0-3, then 4-7) over the same B panel: each half keeps
/// 8 accumulators, two B vectors and one broadcast of A, 11 of the 16 ymm registers of a machine without AVX-512, and
/// issues 8 FMAs against 6 loads. A tile of 5 or 6 rows (LeNet-5's 6 filters) runs as one 6 x 16 pass, 15 registers: as
/// 4 + 2 rows its second pass would have only four accumulators, too few to cover the FMA latency. The 8 x 8 tile before it issued 8 FMAs against 9 loads (one B vector, eight
/// broadcasts), so loads, not the FMA pipes, set its pace; its 8-column panels also made a dense layer read its weights
/// once per 8 images. The second half finds the panel (at most 256 x 16 floats, 16 KB) and A's block still in L1.
/// </summary>
internal readonly unsafe struct MicroKernel256 : IRowMicroKernel
{
    public static int MR => 8;
    public static int NR => 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(int k, float* a, float* b, float* bias, float* c, int ldc, int rows, bool accumulate, bool relu) =>
        Run(k, a, new PackedRows16(b), bias, c, ldc, rows, accumulate, relu);

    /// <summary>
    /// The same tile with B's rows taken from <paramref name="b"/>: a packed panel, or (implicit GEMM) the input itself.
    /// A short tile (the last rows of M) computes only its valid rows rounded up to an even count.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TRows>(int k, float* a, TRows b, float* bias, float* c, int ldc, int rows, bool accumulate, bool relu)
        where TRows : struct, IRowSource
    {
        if (rows > 6)
        {
            Half<TRows, TileRows4>(k, a, b, bias, c, ldc, 4, accumulate, relu);
            Half<TRows, TileRows4>(k, a + 4, b, bias + 4, c + 4 * ldc, ldc, rows - 4, accumulate, relu);
        }
        else if (rows > 4) Half<TRows, TileRows6>(k, a, b, bias, c, ldc, rows, accumulate, relu);
        else if (rows > 2) Half<TRows, TileRows4>(k, a, b, bias, c, ldc, rows, accumulate, relu);
        else Half<TRows, TileRows2>(k, a, b, bias, c, ldc, rows, accumulate, relu);
    }

    /// <summary>Rows [0, <paramref name="rows"/>) (at most 6) of the tile, A's column for step kk at a[kk * MR].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Half<TRows, TCount>(int k, float* a, TRows b, float* bias, float* c, int ldc, int rows, bool accumulate, bool relu)
        where TRows : struct, IRowSource
        where TCount : struct, ITileRows
    {
        // The products start from zero and the start value (bias, or the earlier blocks' sum) is added once at
        // the end: each depth block is its own partial sum, as in MLAS, not one running sum over all of K.
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector256<float> c40 = default, c41 = default, c50 = default, c51 = default;
        for (int kk = 0; kk < k; kk++)
        {
            float* row = b.Row(kk);
            Vector256<float> b0 = Vector256.Load(row), b1 = Vector256.Load(row + 8);
            Vector256<float> x = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            if (TCount.Count > 2)
            {
                x = Vector256.Create(a[2]);
                c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
                x = Vector256.Create(a[3]);
                c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            }

            if (TCount.Count > 4)
            {
                x = Vector256.Create(a[4]);
                c40 = Vector256.FusedMultiplyAdd(x, b0, c40); c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
                x = Vector256.Create(a[5]);
                c50 = Vector256.FusedMultiplyAdd(x, b0, c50); c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
            }

            a += 8;
        }

        if (accumulate)
        {
            c00 += Vector256.Load(c); c01 += Vector256.Load(c + 8);
            if (rows > 1) { c10 += Vector256.Load(c + ldc); c11 += Vector256.Load(c + ldc + 8); }
            if (rows > 2) { c20 += Vector256.Load(c + 2 * ldc); c21 += Vector256.Load(c + 2 * ldc + 8); }
            if (rows > 3) { c30 += Vector256.Load(c + 3 * ldc); c31 += Vector256.Load(c + 3 * ldc + 8); }
            if (rows > 4) { c40 += Vector256.Load(c + 4 * ldc); c41 += Vector256.Load(c + 4 * ldc + 8); }
            if (rows > 5) { c50 += Vector256.Load(c + 5 * ldc); c51 += Vector256.Load(c + 5 * ldc + 8); }
        }
        else
        {
            Vector256<float> s = Vector256.Create(bias[0]);
            c00 += s; c01 += s;
            s = Vector256.Create(bias[1]);
            c10 += s; c11 += s;
            if (TCount.Count > 2)
            {
                s = Vector256.Create(bias[2]);
                c20 += s; c21 += s;
                s = Vector256.Create(bias[3]);
                c30 += s; c31 += s;
            }

            if (TCount.Count > 4)
            {
                s = Vector256.Create(bias[4]);
                c40 += s; c41 += s;
                s = Vector256.Create(bias[5]);
                c50 += s; c51 += s;
            }
        }

        if (relu)
        {
            Vector256<float> z = Vector256<float>.Zero;
            c00 = Vector256.Max(c00, z); c01 = Vector256.Max(c01, z);
            c10 = Vector256.Max(c10, z); c11 = Vector256.Max(c11, z);
            if (TCount.Count > 2) { c20 = Vector256.Max(c20, z); c21 = Vector256.Max(c21, z); c30 = Vector256.Max(c30, z); c31 = Vector256.Max(c31, z); }
            if (TCount.Count > 4) { c40 = Vector256.Max(c40, z); c41 = Vector256.Max(c41, z); c50 = Vector256.Max(c50, z); c51 = Vector256.Max(c51, z); }
        }

        c00.Store(c); c01.Store(c + 8);
        if (rows == 1) return;
        c += ldc; c10.Store(c); c11.Store(c + 8);
        if (rows == 2) return;
        c += ldc; c20.Store(c); c21.Store(c + 8);
        if (rows == 3) return;
        c += ldc; c30.Store(c); c31.Store(c + 8);
        if (rows == 4) return;
        c += ldc; c40.Store(c); c41.Store(c + 8);
        if (rows == 5) return;
        c += ldc; c50.Store(c); c51.Store(c + 8);
    }
}
