using System.Runtime.Intrinsics;

namespace CnnService.Engine.Kernels;

// Legend: see IMicroKernel.cs. Here N is a handful of images (the batch-1 and -2 cases).

/// <summary>
/// Matrix times a few vectors, for dense layers at small batch: the GEMM's NR = 32 column panel
/// would be mostly padding, and the cost is reading the weights once, not multiplying. Reads A in
/// its packed [K][8] panels, two depth steps per 512-bit load, up to four images per pass so the
/// weights stream through once for each four.
/// </summary>
internal static unsafe class Gemv
{
    /// <summary>y[n*M + i] = relu?(bias[i] + sum_k A[i,k] x[n*K + k]) for the rows of panels [panelStart, panelEnd).</summary>
    public static void Run(PackedMatrix a, float* x, int n, float* y, bool relu, int panelStart, int panelEnd)
    {
        int k = a.K, m = a.M;
        float* sums = stackalloc float[4 * 8];
        fixed (float* aData = a.Data, bias = a.Bias)
        {
            for (int panel = panelStart; panel < panelEnd; panel++)
            {
                float* ap = aData + (nint)panel * 8 * k;
                int rows = Math.Min(8, m - panel * 8);
                for (int n0 = 0; n0 < n; n0 += 4)
                {
                    int group = Math.Min(4, n - n0);
                    PanelTimesVectors(ap, k, x + (nint)n0 * k, group, sums);
                    for (int g = 0; g < group; g++)
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

    /// <summary>sums[g*8 + r] = sum_k ap[k*8 + r] * x[g*K + k] for g &lt; group (1..4).</summary>
    private static void PanelTimesVectors(float* ap, int k, float* x, int group, float* sums)
    {
        // Lanes 0-7 hold depth step kk, lanes 8-15 step kk+1; the halves are added at the end.
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
        float* x1 = x + (group > 1 ? k : 0), x2 = x + (group > 2 ? 2 * k : 0), x3 = x + (group > 3 ? 3 * k : 0);
        int kk = 0;
        for (; kk <= k - 2; kk += 2)
        {
            Vector512<float> w = Vector512.Load(ap + (nint)kk * 8);
            s0 = Vector512.FusedMultiplyAdd(w, Pair(x + kk), s0);
            s1 = Vector512.FusedMultiplyAdd(w, Pair(x1 + kk), s1);
            s2 = Vector512.FusedMultiplyAdd(w, Pair(x2 + kk), s2);
            s3 = Vector512.FusedMultiplyAdd(w, Pair(x3 + kk), s3);
        }

        Vector256<float> t0 = s0.GetLower() + s0.GetUpper(), t1 = s1.GetLower() + s1.GetUpper();
        Vector256<float> t2 = s2.GetLower() + s2.GetUpper(), t3 = s3.GetLower() + s3.GetUpper();
        if (kk < k)
        {
            Vector256<float> w = Vector256.Load(ap + (nint)kk * 8);
            t0 = Vector256.FusedMultiplyAdd(w, Vector256.Create(x[kk]), t0);
            t1 = Vector256.FusedMultiplyAdd(w, Vector256.Create(x1[kk]), t1);
            t2 = Vector256.FusedMultiplyAdd(w, Vector256.Create(x2[kk]), t2);
            t3 = Vector256.FusedMultiplyAdd(w, Vector256.Create(x3[kk]), t3);
        }

        t0.Store(sums);
        if (group > 1) t1.Store(sums + 8);
        if (group > 2) t2.Store(sums + 16);
        if (group > 3) t3.Store(sums + 24);
    }

    private static Vector512<float> Pair(float* x) => Vector512.Create(Vector256.Create(x[0]), Vector256.Create(x[1]));
}
