using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Training;

public unsafe class SgemmTests
{
    /// <summary>(m, n, k): odd sizes, k = 1, and k past one depth block (256).</summary>
    private static readonly (int M, int N, int K)[] Awkward = [(1, 1, 1), (7, 13, 1), (9, 33, 300), (17, 70, 257), (33, 5, 31)];

    public static IEnumerable<object[]> Cases() =>
        from level in TestModels.SimdLevels()
        from transA in new[] { false, true }
        from transB in new[] { false, true }
        from size in Awkward
        from accumulate in new[] { false, true }
        from bias in new[] { false, true }
        select new object[] { level[0], transA, transB, size.M, size.N, size.K, accumulate, bias };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_the_triple_loop(SimdLevel simd, bool transA, bool transB, int m, int n, int k, bool accumulate, bool bias)
    {
        var p = new Problem(transA, transB, m, n, k, bias, seed: m * 1000 + n * 10 + k);

        float[] c = p.Run(simd, accumulate);

        p.AssertMatchesReference(c, accumulate);
    }

    [Theory]
    [MemberData(nameof(TestModels.SimdLevels), MemberType = typeof(TestModels))]
    public void Columns_past_n_in_each_row_of_c_are_left_alone(SimdLevel simd)
    {
        var p = new Problem(false, true, 9, 37, 20, bias: true, seed: 5);

        float[] c = p.Run(simd, accumulate: false);

        for (int i = 0; i < p.M; i++)
            for (int j = p.N; j < p.Ldc; j++) Assert.Equal(p.C0[i * p.Ldc + j], c[i * p.Ldc + j]);
    }

    [Theory]
    [MemberData(nameof(TestModels.SimdLevels), MemberType = typeof(TestModels))]
    public void Bias_is_ignored_when_accumulating(SimdLevel simd)
    {
        var with = new Problem(true, false, 11, 19, 7, bias: true, seed: 6);
        var without = new Problem(true, false, 11, 19, 7, bias: false, seed: 6);

        Assert.Equal(without.Run(simd, accumulate: true), with.Run(simd, accumulate: true));
    }

    [Theory]
    [MemberData(nameof(TestModels.SimdLevels), MemberType = typeof(TestModels))]
    public void Column_panels_split_in_two_calls_give_the_same_bits_as_one(SimdLevel simd)
    {
        var p = new Problem(true, true, 13, 100, 290, bias: true, seed: 7);
        int panels = Sgemm.Panels(simd, p.N);

        float[] whole = p.Run(simd, accumulate: false);
        float[] split = p.Run(simd, accumulate: false, (0, panels / 2), (panels / 2, panels));

        Assert.Equal(whole, split);
    }

    [Theory]
    [MemberData(nameof(TestModels.SimdLevels), MemberType = typeof(TestModels))]
    public void Scratch_stays_within_ScratchFloats(SimdLevel simd)
    {
        foreach (var (m, n, k) in Awkward)
        {
            var p = new Problem(false, false, m, n, k, bias: true, seed: 8);
            long need = Sgemm.ScratchFloats(simd, m, k);
            var scratch = new float[need + 64];
            scratch.AsSpan((int)need).Fill(-12345f);

            p.Run(simd, accumulate: false, scratch);

            Assert.All(scratch[(int)need..], v => Assert.Equal(-12345f, v));
        }
    }

    [Theory]
    [MemberData(nameof(TestModels.SimdLevels), MemberType = typeof(TestModels))]
    public void ScratchFloats_for_larger_sizes_covers_every_smaller_call(SimdLevel simd)
    {
        // Layers size one scratch buffer for the largest of their GEMMs' rows and depths.
        for (int m = 1; m <= 40; m += 13)
            for (int k = 1; k <= 700; k++)
                Assert.True(Sgemm.ScratchFloats(simd, m, k) >= Sgemm.ScratchFloats(simd, m, k - 1 < 1 ? 1 : k - 1) &&
                            Sgemm.ScratchFloats(simd, m + 1, k) >= Sgemm.ScratchFloats(simd, m, k),
                    $"ScratchFloats({m}, {k}) is smaller than a smaller problem needs.");
    }

    /// <summary>One GEMM with leading dimensions wider than its rows, and a C full of values to accumulate onto.</summary>
    private sealed class Problem
    {
        public Problem(bool transA, bool transB, int m, int n, int k, bool bias, int seed)
        {
            (TransA, TransB, M, N, K) = (transA, transB, m, n, k);
            Lda = (transA ? m : k) + 3;
            Ldb = (transB ? k : n) + 5;
            Ldc = n + 2;
            A = TestModels.Random((transA ? k : m) * Lda, seed);
            B = TestModels.Random((transB ? n : k) * Ldb, seed + 1);
            C0 = TestModels.Random(m * Ldc, seed + 2);
            Bias = bias ? TestModels.Random(m, seed + 3) : null;
        }

        public bool TransA { get; }
        public bool TransB { get; }
        public int M { get; }
        public int N { get; }
        public int K { get; }
        public int Lda { get; }
        public int Ldb { get; }
        public int Ldc { get; }
        public float[] A { get; }
        public float[] B { get; }
        public float[] C0 { get; }
        public float[]? Bias { get; }

        public float[] Run(SimdLevel simd, bool accumulate, params (int Start, int End)[] ranges) =>
            Run(simd, accumulate, new float[Sgemm.ScratchFloats(simd, M, K)], ranges);

        public float[] Run(SimdLevel simd, bool accumulate, float[] scratch, params (int Start, int End)[] ranges)
        {
            if (ranges.Length == 0) ranges = [(0, Sgemm.Panels(simd, N))];
            float[] c = (float[])C0.Clone();
            fixed (float* a = A, b = B, pc = c, bias = Bias, s = scratch)
            {
                foreach (var (start, end) in ranges)
                    Sgemm.Run(simd, TransA, TransB, M, N, K, a, Lda, b, Ldb, pc, Ldc, bias, accumulate, start, end, s);
            }

            return c;
        }

        /// <summary>Each element within the float error bound of its sum, (k + 2) ulps of the sum of magnitudes.</summary>
        public void AssertMatchesReference(float[] c, bool accumulate)
        {
            for (int i = 0; i < M; i++)
            {
                for (int j = 0; j < N; j++)
                {
                    double start = accumulate ? C0[i * Ldc + j] : Bias?[i] ?? 0;
                    double sum = start, magnitude = Math.Abs(start);
                    for (int kk = 0; kk < K; kk++)
                    {
                        double product = (double)OpA(i, kk) * OpB(kk, j);
                        sum += product;
                        magnitude += Math.Abs(product);
                    }

                    double error = Math.Abs(c[i * Ldc + j] - sum);
                    if (!(error <= (K + 2) * 1.2e-7 * magnitude + 1e-30))
                        Assert.Fail($"C[{i},{j}] = {c[i * Ldc + j]}, expected {sum} (error {error}, magnitude {magnitude}).");
                }
            }
        }

        private float OpA(int i, int kk) => TransA ? A[kk * Lda + i] : A[i * Lda + kk];

        private float OpB(int kk, int j) => TransB ? B[j * Ldb + kk] : B[kk * Ldb + j];
    }
}
