using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Kernels;

public unsafe class GemmTests
{
    private static readonly int[] Awkward = [1, 7, 31, 33, 257];

    public static IEnumerable<object[]> Sizes() =>
        from level in TestModels.SimdLevels()
        from m in Awkward from k in Awkward from n in Awkward
        select new object[] { m, k, n, level[0] };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Matches_the_triple_loop(int m, int k, int n, SimdLevel simd)
    {
        float[] a = TestModels.Random(m * k, seed: m), b = TestModels.Random(k * n, seed: k + 1000), bias = TestModels.Random(m, seed: n);
        var expected = new float[m * n];
        GemmReference.Multiply(a, b, expected, m, n, k);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) expected[i * n + j] += bias[i];

        TestModels.AssertClose(expected, Multiply(a, b, bias, m, k, n, simd, relu: false), 1e-4f * MathF.Sqrt(k));
    }

    public static IEnumerable<object[]> ShortTiles() =>
        from level in TestModels.SimdLevels()
        from m in Enumerable.Range(9, 8) from k in new[] { 5, 300 }
        select new object[] { m, k, level[0] };

    /// <summary>
    /// The last rows of M make a short tile, which computes only its valid rows rounded up to an even count: every count
    /// from 1 to 8 behind a full tile, with the bias, ReLU and (K = 300: two depth blocks) the second block's sum.
    /// </summary>
    [Theory]
    [MemberData(nameof(ShortTiles))]
    public void Every_count_of_rows_in_the_last_tile_matches_the_triple_loop(int m, int k, SimdLevel simd)
    {
        const int n = 45;   // one whole panel and one cut short
        float[] a = TestModels.Random(m * k, seed: m), b = TestModels.Random(k * n, seed: k), bias = TestModels.Random(m, seed: m + k);
        var expected = new float[m * n];
        GemmReference.Multiply(a, b, expected, m, n, k);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) expected[i * n + j] = Math.Max(expected[i * n + j] + bias[i], 0f);

        TestModels.AssertClose(expected, Multiply(a, b, bias, m, k, n, simd, relu: true), 1e-4f * MathF.Sqrt(k));
    }

    [Theory]
    [MemberData(nameof(TestModels.SimdLevels), MemberType = typeof(TestModels))]
    public void Fused_relu_clamps_negative_results_to_zero(SimdLevel simd)
    {
        float[] a = TestModels.Random(33 * 31, seed: 1), b = TestModels.Random(31 * 257, seed: 2);
        var expected = new float[33 * 257];
        GemmReference.Multiply(a, b, expected, 33, 257, 31);

        TestModels.AssertClose(expected.Select(v => Math.Max(v, 0f)).ToArray(), Multiply(a, b, new float[33], 33, 31, 257, simd, relu: true));
    }

    [Theory]
    [MemberData(nameof(TestModels.SimdLevels), MemberType = typeof(TestModels))]
    public void Simd_path_agrees_with_its_scalar_twin(SimdLevel simd)
    {
        float[] a = TestModels.Random(64 * 576, seed: 3), b = TestModels.Random(576 * 100, seed: 4), bias = TestModels.Random(64, seed: 5);

        TestModels.AssertClose(Multiply(a, b, bias, 64, 576, 100, SimdLevel.Scalar, false), Multiply(a, b, bias, 64, 576, 100, simd, false), 1e-5f);
    }

    /// <summary>
    /// Each depth block is summed from zero and added to the earlier blocks' sum (as MLAS does), not carried as one
    /// running sum: 256 products of 65536 make 2^24 in the first block, and the 256 ones of the second block would each
    /// round away against it one at a time, but not as one partial sum of 256. Likewise the bias is added last.
    /// </summary>
    [Theory]
    [MemberData(nameof(TestModels.SimdLevels), MemberType = typeof(TestModels))]
    public void Depth_blocks_are_summed_apart_and_added_to_the_running_total(SimdLevel simd)
    {
        const int k = 2 * Gemm.MaxDepthBlock;
        float[] a = Enumerable.Repeat(1f, k).ToArray(), b = new float[k];
        for (int i = 0; i < k; i++) b[i] = i < Gemm.MaxDepthBlock ? 65536f : 1f;

        Assert.Equal(16777216f + 256f, Multiply(a, b, [0f], 1, k, 1, simd, relu: false)[0]);
    }

    [Theory]
    [MemberData(nameof(TestModels.SimdLevels), MemberType = typeof(TestModels))]
    public void The_bias_is_added_to_the_sum_of_the_products_not_each_product_to_it(SimdLevel simd)
    {
        const int k = 256;
        float[] a = Enumerable.Repeat(1f, k).ToArray(), b = Enumerable.Repeat(1f, k).ToArray();

        Assert.Equal(16777216f + 256f, Multiply(a, b, [16777216f], 1, k, 1, simd, relu: false)[0]);
    }

    /// <summary>C = A B + bias through the packed path: A packed as weights, B packed as the 1x1 im2col of a K-channel, 1 x N image.</summary>
    private static float[] Multiply(float[] a, float[] b, float[] bias, int m, int k, int n, SimdLevel simd, bool relu)
    {
        var packed = new PackedMatrix(a, m, k, bias);
        var c = new float[m * n];
        var panel = new float[Gemm.ScratchFloats(packed, simd)];
        int panels = (n + Gemm.PanelWidth(simd) - 1) / Gemm.PanelWidth(simd);
        fixed (float* pb = b, pc = c, pp = panel)
        {
            Gemm.Run(simd, packed, new Im2ColPacker(pb, 1, k, 1, n, 1, 1, 1, 1, 1, n), n, pc, n, relu, 0, panels, pp);
        }

        return c;
    }
}
