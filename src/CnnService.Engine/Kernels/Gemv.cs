using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Kernels;

// Legend: see IMicroKernel.cs. Here N is a handful of images (the batch-1 to -3 cases).

/// <summary>
/// Matrix times a few vectors, for dense layers at small batch: the GEMM's 32-column panel would
/// be mostly padding, and the cost is streaming the weights, not multiplying. Reads A in its
/// packed [K][8] panels, two depth steps per 512-bit load (lanes 0-7 step k, lanes 8-15 step
/// k+1), with four independent accumulators per image so the loads, not the FMA latency, set
/// the pace; two images share each pass over the weights. The Vector256 forms (what AVX2-only
/// CPUs run) take one depth step per load, four accumulators over four steps.
/// </summary>
internal static unsafe class Gemv
{
    /// <summary>Whether a level has a matrix-vector path: the vector ones (the scalar level runs the GEMM's twin).</summary>
    public static bool Supports(SimdLevel level) => level is SimdLevel.Vector512 or SimdLevel.Vector256;

    /// <summary>y[n*M + i] = relu?(bias[i] + sum_k A[i,k] x[n*K + k]) for the rows of panels [panelStart, panelEnd), at
    /// <paramref name="level"/> (<see cref="Supports"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(SimdLevel level, PackedMatrix a, float* x, int n, float* y, bool relu, int panelStart, int panelEnd)
    {
        bool wide = level == SimdLevel.Vector512;
        int k = a.K, m = a.M;
        float* sums = stackalloc float[2 * 8];
        fixed (float* aData = a.Data, bias = a.Bias)
        {
            for (int panel = panelStart; panel < panelEnd; panel++)
            {
                float* ap = aData + (nint)panel * 8 * k;
                int rows = Math.Min(8, m - panel * 8);
                for (int n0 = 0; n0 < n; n0 += 2)
                {
                    int pair = Math.Min(2, n - n0);
                    float* x0 = x + (nint)n0 * k;
                    if (pair == 2)
                    {
                        if (wide) PanelTimesTwo(ap, k, x0, x0 + k, sums);
                        else PanelTimesTwo256(ap, k, x0, x0 + k, sums);
                    }
                    else if (wide) PanelTimesOne(ap, k, x0, sums);
                    else PanelTimesOne256(ap, k, x0, sums);
                    for (int g = 0; g < pair; g++)
                    {
                        for (int r = 0; r < rows; r++)
                        {
                            float v = sums[g * 8 + r] + bias[panel * 8 + r];
                            y[(nint)(n0 + g) * m + panel * 8 + r] = relu && v < 0f ? 0f : v;
                        }
                    }
                }
            }
        }
    }

    /// <summary>sums[r] = sum_k ap[k*8 + r] * x0[k] and sums[8 + r] likewise for x1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PanelTimesTwo(float* ap, int k, float* x0, float* x1, float* sums)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
        int kk = 0;
        for (; kk <= k - 8; kk += 8)
        {
            float* w = ap + (nint)kk * 8;
            Vector512<float> w0 = Vector512.Load(w), w1 = Vector512.Load(w + 16), w2 = Vector512.Load(w + 32), w3 = Vector512.Load(w + 48);
            a0 = Vector512.FusedMultiplyAdd(w0, Pair(x0 + kk), a0);
            a1 = Vector512.FusedMultiplyAdd(w1, Pair(x0 + kk + 2), a1);
            a2 = Vector512.FusedMultiplyAdd(w2, Pair(x0 + kk + 4), a2);
            a3 = Vector512.FusedMultiplyAdd(w3, Pair(x0 + kk + 6), a3);
            b0 = Vector512.FusedMultiplyAdd(w0, Pair(x1 + kk), b0);
            b1 = Vector512.FusedMultiplyAdd(w1, Pair(x1 + kk + 2), b1);
            b2 = Vector512.FusedMultiplyAdd(w2, Pair(x1 + kk + 4), b2);
            b3 = Vector512.FusedMultiplyAdd(w3, Pair(x1 + kk + 6), b3);
        }

        for (; kk <= k - 2; kk += 2)
        {
            Vector512<float> w0 = Vector512.Load(ap + (nint)kk * 8);
            a0 = Vector512.FusedMultiplyAdd(w0, Pair(x0 + kk), a0);
            b0 = Vector512.FusedMultiplyAdd(w0, Pair(x1 + kk), b0);
        }

        Vector512<float> a = (a0 + a1) + (a2 + a3), b = (b0 + b1) + (b2 + b3);
        Vector256<float> ta = a.GetLower() + a.GetUpper(), tb = b.GetLower() + b.GetUpper();
        if (kk < k)
        {
            Vector256<float> w = Vector256.Load(ap + (nint)kk * 8);
            ta = Vector256.FusedMultiplyAdd(w, Vector256.Create(x0[kk]), ta);
            tb = Vector256.FusedMultiplyAdd(w, Vector256.Create(x1[kk]), tb);
        }

        ta.Store(sums);
        tb.Store(sums + 8);
    }

    /// <summary>sums[r] = sum_k ap[k*8 + r] * x0[k]: <see cref="PanelTimesTwo"/>'s first image alone, the same FMAs in the same
    /// order (so the same bits), without the second image's half of the work (batch 1, or an odd batch's last image).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PanelTimesOne(float* ap, int k, float* x0, float* sums)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int kk = 0;
        for (; kk <= k - 8; kk += 8)
        {
            float* w = ap + (nint)kk * 8;
            a0 = Vector512.FusedMultiplyAdd(Vector512.Load(w), Pair(x0 + kk), a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 16), Pair(x0 + kk + 2), a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 32), Pair(x0 + kk + 4), a2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 48), Pair(x0 + kk + 6), a3);
        }

        for (; kk <= k - 2; kk += 2) a0 = Vector512.FusedMultiplyAdd(Vector512.Load(ap + (nint)kk * 8), Pair(x0 + kk), a0);

        Vector512<float> a = (a0 + a1) + (a2 + a3);
        Vector256<float> ta = a.GetLower() + a.GetUpper();
        if (kk < k) ta = Vector256.FusedMultiplyAdd(Vector256.Load(ap + (nint)kk * 8), Vector256.Create(x0[kk]), ta);
        ta.Store(sums);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Pair(float* x) => Vector512.Create(Vector256.Create(x[0]), Vector256.Create(x[1]));

    /// <summary>As <see cref="PanelTimesTwo"/> with 256-bit vectors: one depth step (the panel's eight rows) per load.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PanelTimesTwo256(float* ap, int k, float* x0, float* x1, float* sums)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
        int kk = 0;
        for (; kk <= k - 4; kk += 4)
        {
            float* w = ap + (nint)kk * 8;
            Vector256<float> w0 = Vector256.Load(w), w1 = Vector256.Load(w + 8), w2 = Vector256.Load(w + 16), w3 = Vector256.Load(w + 24);
            a0 = Vector256.FusedMultiplyAdd(w0, Vector256.Create(x0[kk]), a0);
            a1 = Vector256.FusedMultiplyAdd(w1, Vector256.Create(x0[kk + 1]), a1);
            a2 = Vector256.FusedMultiplyAdd(w2, Vector256.Create(x0[kk + 2]), a2);
            a3 = Vector256.FusedMultiplyAdd(w3, Vector256.Create(x0[kk + 3]), a3);
            b0 = Vector256.FusedMultiplyAdd(w0, Vector256.Create(x1[kk]), b0);
            b1 = Vector256.FusedMultiplyAdd(w1, Vector256.Create(x1[kk + 1]), b1);
            b2 = Vector256.FusedMultiplyAdd(w2, Vector256.Create(x1[kk + 2]), b2);
            b3 = Vector256.FusedMultiplyAdd(w3, Vector256.Create(x1[kk + 3]), b3);
        }

        for (; kk < k; kk++)
        {
            Vector256<float> w0 = Vector256.Load(ap + (nint)kk * 8);
            a0 = Vector256.FusedMultiplyAdd(w0, Vector256.Create(x0[kk]), a0);
            b0 = Vector256.FusedMultiplyAdd(w0, Vector256.Create(x1[kk]), b0);
        }

        ((a0 + a1) + (a2 + a3)).Store(sums);
        ((b0 + b1) + (b2 + b3)).Store(sums + 8);
    }

    /// <summary>As <see cref="PanelTimesTwo256"/>'s first image alone: the same FMAs in the same order, so the same bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PanelTimesOne256(float* ap, int k, float* x0, float* sums)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int kk = 0;
        for (; kk <= k - 4; kk += 4)
        {
            float* w = ap + (nint)kk * 8;
            a0 = Vector256.FusedMultiplyAdd(Vector256.Load(w), Vector256.Create(x0[kk]), a0);
            a1 = Vector256.FusedMultiplyAdd(Vector256.Load(w + 8), Vector256.Create(x0[kk + 1]), a1);
            a2 = Vector256.FusedMultiplyAdd(Vector256.Load(w + 16), Vector256.Create(x0[kk + 2]), a2);
            a3 = Vector256.FusedMultiplyAdd(Vector256.Load(w + 24), Vector256.Create(x0[kk + 3]), a3);
        }

        for (; kk < k; kk++) a0 = Vector256.FusedMultiplyAdd(Vector256.Load(ap + (nint)kk * 8), Vector256.Create(x0[kk]), a0);
        ((a0 + a1) + (a2 + a3)).Store(sums);
    }
}
