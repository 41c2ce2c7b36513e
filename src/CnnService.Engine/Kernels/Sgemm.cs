using System.Runtime.CompilerServices;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Kernels;

// Legend: see IMicroKernel.cs. Here the matrices are plain row-major with leading dimensions, as
// in BLAS: C[M x N] (+)= op(A)[M x K] * op(B)[K x N], op being the identity or the transpose.

/// <summary>
/// A general GEMM on the inference micro-kernels, for training, where the operands change every
/// step and come in every orientation: a forward pass (W * col), a weight gradient
/// (dY * col^T) and an input gradient (W^T * dY). A is packed whole into [K][MR] panels, B one
/// depth block and column panel at a time; an optional per-row bias seeds the accumulators.
/// Callers split the column panels [panelStart, panelEnd) across threads: every element of C is
/// then summed in the same order whatever the thread count, so training is reproducible.
/// </summary>
internal static unsafe class Sgemm
{
    /// <summary>Column panels of C for <paramref name="n"/> columns.</summary>
    public static int Panels(SimdLevel level, int n) => (n + Gemm.PanelWidth(level) - 1) / Gemm.PanelWidth(level);

    /// <summary>
    /// Floats of scratch one call needs: packed A, its bias, one B block (plus slack) and one
    /// column of tiles for a short last panel. The B block is counted at min(k, 256) rows, not
    /// the actual depth block (576 gives 192 but 256 gives 256), so the count never shrinks as m
    /// or k grows: a buffer sized for the largest rows and depth serves every smaller call.
    /// </summary>
    public static long ScratchFloats(SimdLevel level, int m, int k)
    {
        long rows = (m + PackedMatrix.MR - 1) / PackedMatrix.MR * PackedMatrix.MR, nr = Gemm.PanelWidth(level);
        return rows * (k + 1) + (Math.Clamp(k, 1, Gemm.MaxDepthBlock) + 1) * nr + rows * nr;
    }

    /// <summary>
    /// C = (accumulate ? C : 0) + op(A) * op(B) (+ bias[i] on row i when <paramref name="bias"/> is
    /// not null and not accumulating), clamped at zero when <paramref name="relu"/>, for column panels [panelStart, panelEnd).
    /// op(A)[i, k] is a[i*lda + k], or a[k*lda + i] when <paramref name="transA"/>; op(B)[k, j] likewise.
    /// </summary>
    public static void Run(SimdLevel level, bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, float* bias, bool accumulate,
        int panelStart, int panelEnd, float* scratch, bool relu = false)
    {
        switch (level)
        {
            case SimdLevel.Vector512: Run<MicroKernel512>(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, bias, accumulate, panelStart, panelEnd, scratch, relu); break;
            case SimdLevel.Vector256: Run<MicroKernel256>(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, bias, accumulate, panelStart, panelEnd, scratch, relu); break;
            default: Run<MicroKernelScalar>(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, bias, accumulate, panelStart, panelEnd, scratch, relu); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TKernel>(bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, float* bias, bool accumulate,
        int panelStart, int panelEnd, float* scratch, bool relu)
        where TKernel : struct, IMicroKernel
    {
        const int mr = PackedMatrix.MR;
        int nr = TKernel.NR, rowPanels = (m + mr - 1) / mr, kc = Gemm.DepthBlock(Math.Max(k, 1));
        float* packedA = scratch;
        float* packedBias = packedA + (nint)rowPanels * mr * k;
        float* panel = packedBias + rowPanels * mr;
        float* tile = panel + (nint)(kc + 1) * nr;

        PackA(transA, m, k, a, lda, packedA);
        for (int i = 0; i < rowPanels * mr; i++) packedBias[i] = bias != null && i < m ? bias[i] : 0f;
        if (k == 0)
        {
            // Nothing to multiply: C is the bias (or unchanged).
            if (!accumulate) FillBias(m, n, c, ldc, packedBias, panelStart * nr, Math.Min(n, panelEnd * nr));
            return;
        }

        for (int panelIndex = panelStart; panelIndex < panelEnd; panelIndex++)
        {
            int j0 = panelIndex * nr, count = Math.Min(nr, n - j0);
            bool inPlace = count == nr;
            if (!inPlace && accumulate) LoadTile(m, count, c + j0, ldc, tile, nr);

            for (int k0 = 0; k0 < k; k0 += kc)
            {
                int depth = Math.Min(kc, k - k0);
                PackB(transB, k0, depth, j0, count, b, ldb, panel, nr);
                bool add = accumulate || k0 > 0, clamp = relu && k0 + depth == k;
                for (int i0 = 0; i0 < m; i0 += mr)
                {
                    int rows = Math.Min(mr, m - i0);
                    float* aBlock = packedA + (nint)i0 * k + (nint)k0 * mr;
                    float* dst = inPlace ? c + (nint)i0 * ldc + j0 : tile + (nint)i0 * nr;
                    TKernel.Run(depth, aBlock, panel, packedBias + i0, dst, inPlace ? ldc : nr, rows, add, clamp);
                }
            }

            if (!inPlace) StoreTile(m, count, tile, nr, c + j0, ldc);
        }
    }

    /// <summary>op(A) into [rowPanels][K][MR], rows past M zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA(bool trans, int m, int k, float* a, int lda, float* packed)
    {
        const int mr = PackedMatrix.MR;
        for (int i0 = 0; i0 < m; i0 += mr)
        {
            int rows = Math.Min(mr, m - i0);
            float* dst = packed + (nint)i0 * k;
            for (int kk = 0; kk < k; kk++)
            {
                float* d = dst + (nint)kk * mr;
                if (trans)
                {
                    float* src = a + (nint)kk * lda + i0;
                    for (int r = 0; r < rows; r++) d[r] = src[r];
                }
                else
                {
                    for (int r = 0; r < rows; r++) d[r] = a[(nint)(i0 + r) * lda + kk];
                }

                for (int r = rows; r < mr; r++) d[r] = 0f;
            }
        }
    }

    /// <summary>Rows [k0, k0+depth) of columns [j0, j0+count) of op(B) into [depth][NR], columns past count zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackB(bool trans, int k0, int depth, int j0, int count, float* b, int ldb, float* panel, int nr)
    {
        if (!trans)
        {
            for (int kk = 0; kk < depth; kk++)
            {
                float* src = b + (nint)(k0 + kk) * ldb + j0, dst = panel + (nint)kk * nr;
                new ReadOnlySpan<float>(src, count).CopyTo(new Span<float>(dst, count));
                if (count < nr) new Span<float>(dst + count, nr - count).Clear();
            }

            return;
        }

        if (count < nr) new Span<float>(panel, depth * nr).Clear();
        for (int j = 0; j < count; j++)
        {
            float* src = b + (nint)(j0 + j) * ldb + k0, dst = panel + j;
            for (int kk = 0; kk < depth; kk++) dst[(nint)kk * nr] = src[kk];
        }
    }

    private static void LoadTile(int m, int count, float* c, int ldc, float* tile, int nr)
    {
        for (int i = 0; i < m; i++)
            new ReadOnlySpan<float>(c + (nint)i * ldc, count).CopyTo(new Span<float>(tile + (nint)i * nr, count));
    }

    private static void StoreTile(int m, int count, float* tile, int nr, float* c, int ldc)
    {
        for (int i = 0; i < m; i++)
            new ReadOnlySpan<float>(tile + (nint)i * nr, count).CopyTo(new Span<float>(c + (nint)i * ldc, count));
    }

    private static void FillBias(int m, int n, float* c, int ldc, float* bias, int j0, int j1)
    {
        for (int i = 0; i < m; i++)
            if (j1 > j0) new Span<float>(c + (nint)i * ldc + j0, j1 - j0).Fill(bias[i]);
    }
}
