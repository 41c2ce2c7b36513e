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
/// MNIST test digits against reading every step, 1.45-1.51x on one thread and 1.27x on two (the Fashion-MNIST net, mostly
/// convolution, unchanged within the noise).
/// </summary>
internal static unsafe partial class Gemv
{
    /// <summary>Whether a level has a matrix-vector path: the vector ones (the scalar level runs the GEMM's twin).</summary>
    public static bool Supports(SimdLevel level) => level is SimdLevel.Vector512 or SimdLevel.Vector256;

    /// <summary>Deepest input whose nonzero steps are listed on the stack (64 KB) for <see cref="NonZeroSteps"/>.</summary>
    public const int MaxSparseDepth = 1 << 14;

    /// <summary>y[n*M + i] = relu?(bias[i] + sum_k A[i,k] x[n*K + k]) for the rows of panels [panelStart, panelEnd), at
    /// <paramref name="level"/> (<see cref="Supports"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit] // the step lists are written before they are read
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

            // Batch 1: two panels a pass, so each listed step's index and input are read once for sixteen rows.
            if (sparse && n == 1)
                for (; panel + 2 <= panelEnd; panel += 2)
                {
                    float* ap = aData + (nint)panel * 8 * k;
                    TwoPanelsTimesOneSparse256(ap, ap + (nint)8 * k, x, lists, stride, counts, sums);
                    Store(sums, 8, 0, 1, panel, m, bias, y, relu);
                    Store(sums + 8, 8, 0, 1, panel + 1, m, bias, y, relu);
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
}

