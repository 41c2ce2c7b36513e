using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Kernels;

// Legend: see IMicroKernel.cs. Here N is a handful of images (batches below DenseProduct.GemvMaxBatch).

/// <summary>
/// Matrix times a few vectors, for dense layers at small batch: the GEMM's 32-column panel would
/// be mostly padding, and the cost is streaming the weights, not multiplying. Reads A in its
/// packed [K][8] panels, one depth step of a panel's eight rows per 256-bit load, four independent
/// accumulators per image over four steps so the loads, not the FMA latency, set the pace; two
/// images share each pass over the weights. With 512-bit vectors two panels go side by side
/// (lanes 0-7 and 8-15), so each multiply-add does sixteen rows and the image's value is one
/// broadcast: every lane sums in the same order at both widths, so the two give the same bits,
/// whichever panels pair up in a thread's range and whatever the batch. An image alone whose input is at least half zeros
/// (after a ReLU: Keras MNIST's 5408 flattened features are 64-70 % zeros on MNIST's test digits) reads only the weights of
/// its nonzero steps, with the same bits: the Keras net's pass at batch 1 on AMD EPYC Zen 3, alternated in one process on
/// MNIST test digits, 1.16x on one thread and 1.10x on two.
/// </summary>
internal static unsafe class Gemv
{
    /// <summary>Whether a level has a matrix-vector path: the vector ones (the scalar level runs the GEMM's twin).</summary>
    public static bool Supports(SimdLevel level) => level is SimdLevel.Vector512 or SimdLevel.Vector256;

    /// <summary>Deepest input whose nonzero steps are listed on the stack (64 KB) for <see cref="NonZeroSteps"/>.</summary>
    public const int MaxSparseDepth = 1 << 14;

    /// <summary>y[n*M + i] = relu?(bias[i] + sum_k A[i,k] x[n*K + k]) for the rows of panels [panelStart, panelEnd), at
    /// <paramref name="level"/> (<see cref="Supports"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(SimdLevel level, PackedMatrix a, float* x, int n, float* y, bool relu, int panelStart, int panelEnd)
    {
        int k = a.K, m = a.M, stride = k / 4 + 4;
        float* sums = stackalloc float[2 * 16];
        int* counts = stackalloc int[4];
        // An image alone (batch 1, an odd batch's last) whose input is mostly zeros (a ReLU's map) reads only the weights of its nonzero steps.
        bool lone = (n & 1) == 1, mayList = lone && a.Finite && k <= MaxSparseDepth;
        Span<int> steps = mayList ? stackalloc int[4 * stride] : default;
        fixed (float* aData = a.Data, bias = a.Bias)
        fixed (int* lists = steps)
        {
            bool sparse = mayList && NonZeroSteps(x + (nint)(n - 1) * k, k, lists, stride, counts);
            int panel = panelStart;
            if (level == SimdLevel.Vector512)
            {
                for (; panel + 2 <= panelEnd; panel += 2)
                {
                    float* ap = aData + (nint)panel * 8 * k;
                    for (int n0 = 0; n0 < n; n0 += 2)
                    {
                        float* x0 = x + (nint)n0 * k;
                        if (n - n0 >= 2) PanelPairTimesTwo(ap, k, x0, x0 + k, sums);
                        else if (sparse) PanelPairTimesOneSparse(ap, k, x0, lists, stride, counts, sums);
                        else PanelPairTimesOne(ap, k, x0, sums);
                        Store(sums, 16, n0, Math.Min(2, n - n0), panel, m, bias, y, relu);
                    }
                }
            }

            for (; panel < panelEnd; panel++)
            {
                float* ap = aData + (nint)panel * 8 * k;
                for (int n0 = 0; n0 < n; n0 += 2)
                {
                    float* x0 = x + (nint)n0 * k;
                    if (n - n0 >= 2) PanelTimesTwo256(ap, k, x0, x0 + k, sums);
                    else if (sparse) PanelTimesOneSparse256(ap, x0, lists, stride, counts, sums);
                    else PanelTimesOne256(ap, k, x0, sums);
                    Store(sums, 8, n0, Math.Min(2, n - n0), panel, m, bias, y, relu);
                }
            }
        }
    }

    /// <summary>
    /// Lists the steps where <paramref name="x"/> is not zero by the accumulator the one-image loops add them to (step % 4 in the
    /// loops of four, 0 in the tail), each in increasing order, list j at <paramref name="lists"/> + j * <paramref name="stride"/>,
    /// its length in <paramref name="counts"/>[j]. Skipping the rest changes no bit: an accumulator starts at +0 and never becomes
    /// -0 (a sum is -0 only when both terms are), so adding w * (+-0) with a finite w leaves it as it was. Returns whether at least
    /// half the steps are zero, below which reading every step in order, as the prefetchers like, costs no more than gathering.
    /// </summary>
    private static bool NonZeroSteps(float* x, int k, int* lists, int stride, int* counts)
    {
        // Branch-free: each step is written at its list's end, which moves on only past a nonzero (a third to a half of a
        // ReLU map's steps, in no order a branch predictor could follow).
        int* l0 = lists, l1 = lists + stride, l2 = lists + 2 * stride, l3 = lists + 3 * stride;
        int n0 = 0, n1 = 0, n2 = 0, n3 = 0, kk = 0;
        for (; kk <= k - 4; kk += 4)
        {
            l0[n0] = kk; n0 += x[kk] != 0f ? 1 : 0;
            l1[n1] = kk + 1; n1 += x[kk + 1] != 0f ? 1 : 0;
            l2[n2] = kk + 2; n2 += x[kk + 2] != 0f ? 1 : 0;
            l3[n3] = kk + 3; n3 += x[kk + 3] != 0f ? 1 : 0;
        }

        for (; kk < k; kk++)
        {
            l0[n0] = kk; n0 += x[kk] != 0f ? 1 : 0;
        }

        counts[0] = n0; counts[1] = n1; counts[2] = n2; counts[3] = n3;
        return 2 * (n0 + n1 + n2 + n3) <= k;
    }

    /// <summary>Adds the bias to <paramref name="images"/> images' sums (<paramref name="lanes"/> rows each, from panel
    /// <paramref name="panel"/>'s first row), applies the ReLU and stores the rows that exist.</summary>
    private static void Store(float* sums, int lanes, int n0, int images, int panel, int m, float* bias, float* y, bool relu)
    {
        int row0 = panel * 8, rows = Math.Min(lanes, m - row0);
        for (int g = 0; g < images; g++)
        {
            float* yg = y + (nint)(n0 + g) * m + row0;
            for (int r = 0; r < rows; r++)
            {
                float v = sums[g * lanes + r] + bias[row0 + r];
                yg[r] = relu && v < 0f ? 0f : v;
            }
        }
    }

    /// <summary>Sums[r] for panels ap and the next (rows 0-7 and 8-15) times x0, sums[16 + r] times x1: <see
    /// cref="PanelTimesTwo256"/> on both panels at once, lane for lane the same FMAs in the same order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PanelPairTimesTwo(float* ap, int k, float* x0, float* x1, float* sums)
    {
        float* aq = ap + (nint)8 * k;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
        int kk = 0;
        for (; kk <= k - 4; kk += 4)
        {
            nint at = (nint)kk * 8;
            Vector512<float> w0 = Rows(ap + at, aq + at), w1 = Rows(ap + at + 8, aq + at + 8);
            Vector512<float> w2 = Rows(ap + at + 16, aq + at + 16), w3 = Rows(ap + at + 24, aq + at + 24);
            a0 = Vector512.FusedMultiplyAdd(w0, Vector512.Create(x0[kk]), a0);
            a1 = Vector512.FusedMultiplyAdd(w1, Vector512.Create(x0[kk + 1]), a1);
            a2 = Vector512.FusedMultiplyAdd(w2, Vector512.Create(x0[kk + 2]), a2);
            a3 = Vector512.FusedMultiplyAdd(w3, Vector512.Create(x0[kk + 3]), a3);
            b0 = Vector512.FusedMultiplyAdd(w0, Vector512.Create(x1[kk]), b0);
            b1 = Vector512.FusedMultiplyAdd(w1, Vector512.Create(x1[kk + 1]), b1);
            b2 = Vector512.FusedMultiplyAdd(w2, Vector512.Create(x1[kk + 2]), b2);
            b3 = Vector512.FusedMultiplyAdd(w3, Vector512.Create(x1[kk + 3]), b3);
        }

        for (; kk < k; kk++)
        {
            Vector512<float> w0 = Rows(ap + (nint)kk * 8, aq + (nint)kk * 8);
            a0 = Vector512.FusedMultiplyAdd(w0, Vector512.Create(x0[kk]), a0);
            b0 = Vector512.FusedMultiplyAdd(w0, Vector512.Create(x1[kk]), b0);
        }

        ((a0 + a1) + (a2 + a3)).Store(sums);
        ((b0 + b1) + (b2 + b3)).Store(sums + 16);
    }

    /// <summary>As <see cref="PanelPairTimesTwo"/>'s first image alone.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PanelPairTimesOne(float* ap, int k, float* x0, float* sums)
    {
        float* aq = ap + (nint)8 * k;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int kk = 0;
        for (; kk <= k - 4; kk += 4)
        {
            nint at = (nint)kk * 8;
            a0 = Vector512.FusedMultiplyAdd(Rows(ap + at, aq + at), Vector512.Create(x0[kk]), a0);
            a1 = Vector512.FusedMultiplyAdd(Rows(ap + at + 8, aq + at + 8), Vector512.Create(x0[kk + 1]), a1);
            a2 = Vector512.FusedMultiplyAdd(Rows(ap + at + 16, aq + at + 16), Vector512.Create(x0[kk + 2]), a2);
            a3 = Vector512.FusedMultiplyAdd(Rows(ap + at + 24, aq + at + 24), Vector512.Create(x0[kk + 3]), a3);
        }

        for (; kk < k; kk++) a0 = Vector512.FusedMultiplyAdd(Rows(ap + (nint)kk * 8, aq + (nint)kk * 8), Vector512.Create(x0[kk]), a0);
        ((a0 + a1) + (a2 + a3)).Store(sums);
    }

    /// <summary>One depth step of two panels' rows: eight from each, in one vector. (Vector512.Create of the two halves
    /// compiles to two inserts; this is one load and one insert from memory.)</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Rows(float* low, float* high) => Vector256.Load(low).ToVector512Unsafe().WithUpper(Vector256.Load(high));

    /// <summary>sums[r] = sum_k ap[k*8 + r] * x0[k] and sums[8 + r] likewise for x1: one depth step (the panel's eight rows)
    /// per load.</summary>
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

    /// <summary>As <see cref="PanelPairTimesOne"/> over the steps <see cref="NonZeroSteps"/> listed: the same FMAs into each
    /// accumulator in the same order, less those that add zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PanelPairTimesOneSparse(float* ap, int k, float* x0, int* lists, int stride, int* counts, float* sums)
    {
        float* aq = ap + (nint)8 * k;
        int* l0 = lists, l1 = lists + stride, l2 = lists + 2 * stride, l3 = lists + 3 * stride;
        int c0 = counts[0], c1 = counts[1], c2 = counts[2], c3 = counts[3], common = Math.Min(Math.Min(c0, c1), Math.Min(c2, c3));
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int i = 0;
        for (; i < common; i++)
        {
            nint s0 = l0[i], s1 = l1[i], s2 = l2[i], s3 = l3[i];
            a0 = Vector512.FusedMultiplyAdd(Rows(ap + s0 * 8, aq + s0 * 8), Vector512.Create(x0[s0]), a0);
            a1 = Vector512.FusedMultiplyAdd(Rows(ap + s1 * 8, aq + s1 * 8), Vector512.Create(x0[s1]), a1);
            a2 = Vector512.FusedMultiplyAdd(Rows(ap + s2 * 8, aq + s2 * 8), Vector512.Create(x0[s2]), a2);
            a3 = Vector512.FusedMultiplyAdd(Rows(ap + s3 * 8, aq + s3 * 8), Vector512.Create(x0[s3]), a3);
        }

        for (int j = i; j < c0; j++) { nint s = l0[j]; a0 = Vector512.FusedMultiplyAdd(Rows(ap + s * 8, aq + s * 8), Vector512.Create(x0[s]), a0); }
        for (int j = i; j < c1; j++) { nint s = l1[j]; a1 = Vector512.FusedMultiplyAdd(Rows(ap + s * 8, aq + s * 8), Vector512.Create(x0[s]), a1); }
        for (int j = i; j < c2; j++) { nint s = l2[j]; a2 = Vector512.FusedMultiplyAdd(Rows(ap + s * 8, aq + s * 8), Vector512.Create(x0[s]), a2); }
        for (int j = i; j < c3; j++) { nint s = l3[j]; a3 = Vector512.FusedMultiplyAdd(Rows(ap + s * 8, aq + s * 8), Vector512.Create(x0[s]), a3); }
        ((a0 + a1) + (a2 + a3)).Store(sums);
    }

    /// <summary>As <see cref="PanelTimesOne256"/> over the steps <see cref="NonZeroSteps"/> listed: the same FMAs into each
    /// accumulator in the same order, less those that add zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PanelTimesOneSparse256(float* ap, float* x0, int* lists, int stride, int* counts, float* sums)
    {
        int* l0 = lists, l1 = lists + stride, l2 = lists + 2 * stride, l3 = lists + 3 * stride;
        int c0 = counts[0], c1 = counts[1], c2 = counts[2], c3 = counts[3], common = Math.Min(Math.Min(c0, c1), Math.Min(c2, c3));
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int i = 0;
        for (; i < common; i++)
        {
            nint s0 = l0[i], s1 = l1[i], s2 = l2[i], s3 = l3[i];
            a0 = Vector256.FusedMultiplyAdd(Vector256.Load(ap + s0 * 8), Vector256.Create(x0[s0]), a0);
            a1 = Vector256.FusedMultiplyAdd(Vector256.Load(ap + s1 * 8), Vector256.Create(x0[s1]), a1);
            a2 = Vector256.FusedMultiplyAdd(Vector256.Load(ap + s2 * 8), Vector256.Create(x0[s2]), a2);
            a3 = Vector256.FusedMultiplyAdd(Vector256.Load(ap + s3 * 8), Vector256.Create(x0[s3]), a3);
        }

        for (int j = i; j < c0; j++) { nint s = l0[j]; a0 = Vector256.FusedMultiplyAdd(Vector256.Load(ap + s * 8), Vector256.Create(x0[s]), a0); }
        for (int j = i; j < c1; j++) { nint s = l1[j]; a1 = Vector256.FusedMultiplyAdd(Vector256.Load(ap + s * 8), Vector256.Create(x0[s]), a1); }
        for (int j = i; j < c2; j++) { nint s = l2[j]; a2 = Vector256.FusedMultiplyAdd(Vector256.Load(ap + s * 8), Vector256.Create(x0[s]), a2); }
        for (int j = i; j < c3; j++) { nint s = l3[j]; a3 = Vector256.FusedMultiplyAdd(Vector256.Load(ap + s * 8), Vector256.Create(x0[s]), a3); }
        ((a0 + a1) + (a2 + a3)).Store(sums);
    }
}
