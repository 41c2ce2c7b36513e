using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnService.Engine.Kernels;

/// <summary>
/// 8 x 24 tile with AVX2 + FMA, run as two 4 x 24 halves (rows 0-3, then 4-7) over the same B panel: each half keeps
/// 12 accumulators, three B vectors and one broadcast of A, the 16 ymm registers of a machine without AVX-512, and
/// issues 12 FMAs against 7 loads. The 8 x 8 tile before it issued 8 FMAs against 9 loads (one B vector, eight
/// broadcasts), so loads, not the FMA pipes, set its pace; an 8 x 16 one (two 4 x 16 halves, 8 accumulators) had too few
/// accumulators to cover the FMA latency: the 3x3 64->64 layer 2.39-2.45 ms at 16 columns, 2.22-2.25 at 24, TinyVGG's
/// layers 13-16 % faster (Zen 4 as an AVX2-only CPU, one thread). The second half finds the panel (at most 256 x 24
/// floats, 24 KB) and A's block still in L1.
/// </summary>
internal readonly unsafe struct MicroKernel256 : IRowMicroKernel
{
    public static int MR => 8;
    public static int NR => 24;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(int k, float* a, float* b, float* bias, float* c, int ldc, int rows, bool accumulate, bool relu) =>
        Run(k, a, new PackedRows24(b), bias, c, ldc, rows, accumulate, relu);

    /// <summary>
    /// The same tile with B's rows taken from <paramref name="b"/>: a packed panel, or (implicit GEMM) the input itself.
    /// A short tile (the last rows of M) computes only its valid rows rounded up to an even count.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TRows>(int k, float* a, TRows b, float* bias, float* c, int ldc, int rows, bool accumulate, bool relu)
        where TRows : struct, IRowSource
    {
        if (rows > 4)
        {
            Half<TRows, TileRows4>(k, a, b, bias, c, ldc, 4, accumulate, relu);
            if (rows > 6) Half<TRows, TileRows4>(k, a + 4, b, bias + 4, c + 4 * ldc, ldc, rows - 4, accumulate, relu);
            else Half<TRows, TileRows2>(k, a + 4, b, bias + 4, c + 4 * ldc, ldc, rows - 4, accumulate, relu);
        }
        else if (rows > 2) Half<TRows, TileRows4>(k, a, b, bias, c, ldc, rows, accumulate, relu);
        else Half<TRows, TileRows2>(k, a, b, bias, c, ldc, rows, accumulate, relu);
    }

    /// <summary>Rows [0, <paramref name="rows"/>) (at most 4) of the tile, A's column for step kk at a[kk * MR].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Half<TRows, TCount>(int k, float* a, TRows b, float* bias, float* c, int ldc, int rows, bool accumulate, bool relu)
        where TRows : struct, IRowSource
        where TCount : struct, ITileRows
    {
        // The products start from zero and the start value (bias, or the earlier blocks' sum) is added once at
        // the end: each depth block is its own partial sum, as in MLAS, not one running sum over all of K.
        Vector256<float> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
        Vector256<float> c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        // A native-width step: the offset table (implicit GEMM) is indexed without a sign extension each step, one of the
        // loop's 26 instructions (the conv pair 1.04x on one thread, 1.11x at batch 8 on two; MobileNet V2 1.03x / 1.01x;
        // paired in one process, Zen 3).
        for (nint kk = 0; kk < k; kk++)
        {
            float* row = b.Row(kk);
            Vector256<float> b0 = Vector256.Load(row), b1 = Vector256.Load(row + 8), b2 = Vector256.Load(row + 16);
            Vector256<float> x = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01); c02 = Vector256.FusedMultiplyAdd(x, b2, c02);
            x = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11); c12 = Vector256.FusedMultiplyAdd(x, b2, c12);
            if (TCount.Count > 2)
            {
                x = Vector256.Create(a[2]);
                c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21); c22 = Vector256.FusedMultiplyAdd(x, b2, c22);
                x = Vector256.Create(a[3]);
                c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31); c32 = Vector256.FusedMultiplyAdd(x, b2, c32);
            }

            a += 8;
        }

        Finish(ref c00, ref c01, ref c02, c, bias[0], accumulate, relu);
        if (rows == 1) return;
        Finish(ref c10, ref c11, ref c12, c + ldc, bias[1], accumulate, relu);
        if (rows == 2) return;
        Finish(ref c20, ref c21, ref c22, c + 2 * ldc, bias[2], accumulate, relu);
        if (rows == 3) return;
        Finish(ref c30, ref c31, ref c32, c + 3 * ldc, bias[3], accumulate, relu);
    }

    /// <summary>One row of the tile: its start value added, clamped if asked, stored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish(ref Vector256<float> v0, ref Vector256<float> v1, ref Vector256<float> v2, float* c, float bias, bool accumulate, bool relu)
    {
        if (accumulate)
        {
            v0 += Vector256.Load(c); v1 += Vector256.Load(c + 8); v2 += Vector256.Load(c + 16);
        }
        else
        {
            Vector256<float> s = Vector256.Create(bias);
            v0 += s; v1 += s; v2 += s;
        }

        if (relu)
        {
            v0 = Vector256.Max(v0, Vector256<float>.Zero); v1 = Vector256.Max(v1, Vector256<float>.Zero); v2 = Vector256.Max(v2, Vector256<float>.Zero);
        }

        v0.Store(c); v1.Store(c + 8); v2.Store(c + 16);
    }
}
