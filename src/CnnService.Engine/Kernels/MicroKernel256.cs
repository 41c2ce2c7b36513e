using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnService.Engine.Kernels;

/// <summary>
/// 8 x 8 tile with AVX2 + FMA: 8 accumulators, one B vector and one broadcast per step, so it
/// stays inside the 16 ymm registers of a machine without AVX-512.
/// </summary>
internal readonly unsafe struct MicroKernel256 : IRowMicroKernel
{
    public static int MR => 8;
    public static int NR => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(int k, float* a, float* b, float* bias, float* c, int ldc, int rows, bool accumulate, bool relu) =>
        Run(k, a, new PackedRows8(b), bias, c, ldc, rows, accumulate, relu);

    /// <summary>
    /// The same tile with B's rows taken from <paramref name="b"/>: a packed panel, or (implicit GEMM) the input itself.
    /// A short tile (the last rows of M) computes only its valid rows rounded up to an even count.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TRows>(int k, float* a, TRows b, float* bias, float* c, int ldc, int rows, bool accumulate, bool relu)
        where TRows : struct, IRowSource
    {
        if (rows > 6) Run<TRows, TileRows8>(k, a, b, bias, c, ldc, rows, accumulate, relu);
        else if (rows > 4) Run<TRows, TileRows6>(k, a, b, bias, c, ldc, rows, accumulate, relu);
        else if (rows > 2) Run<TRows, TileRows4>(k, a, b, bias, c, ldc, rows, accumulate, relu);
        else Run<TRows, TileRows2>(k, a, b, bias, c, ldc, rows, accumulate, relu);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TRows, TCount>(int k, float* a, TRows b, float* bias, float* c, int ldc, int rows, bool accumulate, bool relu)
        where TRows : struct, IRowSource
        where TCount : struct, ITileRows
    {
        // The products start from zero and the start value (bias, or the earlier blocks' sum) is added once at
        // the end: each depth block is its own partial sum, as in MLAS, not one running sum over all of K.
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (int kk = 0; kk < k; kk++)
        {
            Vector256<float> b0 = Vector256.Load(b.Row(kk));
            c0 = Vector256.FusedMultiplyAdd(Vector256.Create(a[0]), b0, c0);
            c1 = Vector256.FusedMultiplyAdd(Vector256.Create(a[1]), b0, c1);
            if (TCount.Count > 2)
            {
                c2 = Vector256.FusedMultiplyAdd(Vector256.Create(a[2]), b0, c2);
                c3 = Vector256.FusedMultiplyAdd(Vector256.Create(a[3]), b0, c3);
            }

            if (TCount.Count > 4)
            {
                c4 = Vector256.FusedMultiplyAdd(Vector256.Create(a[4]), b0, c4);
                c5 = Vector256.FusedMultiplyAdd(Vector256.Create(a[5]), b0, c5);
            }

            if (TCount.Count > 6)
            {
                c6 = Vector256.FusedMultiplyAdd(Vector256.Create(a[6]), b0, c6);
                c7 = Vector256.FusedMultiplyAdd(Vector256.Create(a[7]), b0, c7);
            }

            a += 8;
        }

        if (accumulate)
        {
            c0 += Vector256.Load(c);
            if (rows > 1) c1 += Vector256.Load(c + ldc);
            if (rows > 2) c2 += Vector256.Load(c + 2 * ldc);
            if (rows > 3) c3 += Vector256.Load(c + 3 * ldc);
            if (rows > 4) c4 += Vector256.Load(c + 4 * ldc);
            if (rows > 5) c5 += Vector256.Load(c + 5 * ldc);
            if (rows > 6) c6 += Vector256.Load(c + 6 * ldc);
            if (rows > 7) c7 += Vector256.Load(c + 7 * ldc);
        }
        else
        {
            c0 += Vector256.Create(bias[0]); c1 += Vector256.Create(bias[1]);
            if (TCount.Count > 2) { c2 += Vector256.Create(bias[2]); c3 += Vector256.Create(bias[3]); }
            if (TCount.Count > 4) { c4 += Vector256.Create(bias[4]); c5 += Vector256.Create(bias[5]); }
            if (TCount.Count > 6) { c6 += Vector256.Create(bias[6]); c7 += Vector256.Create(bias[7]); }
        }

        if (relu)
        {
            Vector256<float> z = Vector256<float>.Zero;
            c0 = Vector256.Max(c0, z); c1 = Vector256.Max(c1, z);
            if (TCount.Count > 2) { c2 = Vector256.Max(c2, z); c3 = Vector256.Max(c3, z); }
            if (TCount.Count > 4) { c4 = Vector256.Max(c4, z); c5 = Vector256.Max(c5, z); }
            if (TCount.Count > 6) { c6 = Vector256.Max(c6, z); c7 = Vector256.Max(c7, z); }
        }

        c0.Store(c);
        if (rows > 1) c1.Store(c + ldc);
        if (rows > 2) c2.Store(c + 2 * ldc);
        if (rows > 3) c3.Store(c + 3 * ldc);
        c += 4 * ldc;
        if (rows > 4) c4.Store(c);
        if (rows > 5) c5.Store(c + ldc);
        if (rows > 6) c6.Store(c + 2 * ldc);
        if (rows > 7) c7.Store(c + 3 * ldc);
    }
}
