using CnnService.Engine.Format;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Layers;

public class DenseTests
{
    public static IEnumerable<object[]> Cases() =>
        from level in TestModels.SimdLevels()
        from batch in new[] { 1, 2, 3, 4, 5, 15, 16, 17, 33, 64 }   // the matrix-vector path below 16, the GEMM from 16
        from units in new[] { 1, 10, 100 }
        select new object[] { batch, units, level[0] };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_matches_the_dot_products(int batch, int units, SimdLevel simd)
    {
        var layer = new LayerSpec { Type = "dense", Name = "fc", Units = units };
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(13, 1, 1), layer), simd, out var t);
        float[] x = TestModels.Random(batch * 13, seed: 7);

        TestModels.AssertClose(Reference.Dense(x, batch, 13, t["fc.weight"], t["fc.bias"], units), TestModels.Forward(model, x, batch));
    }

    [Theory]
    [MemberData(nameof(TestModels.SimdLevels), MemberType = typeof(TestModels))]
    public void Reads_a_feature_map_in_flatten_order(SimdLevel simd)
    {
        Model model = TestModels.Build(
            TestModels.Spec(new TensorShape(3, 4, 5), new LayerSpec { Type = "flatten" }, new LayerSpec { Type = "dense", Name = "fc", Units = 9 }, new LayerSpec { Type = "relu" }),
            simd, out var t);
        float[] x = TestModels.Random(2 * 60, seed: 8);

        Assert.Equal(new TensorShape(60, 1, 1), model.Layers[0].OutputShape);
        TestModels.AssertClose(Reference.Map(Reference.Dense(x, 2, 60, t["fc.weight"], t["fc.bias"], 9), v => Math.Max(0, v)), TestModels.Forward(model, x, 2));
    }

    [Theory]
    [MemberData(nameof(TestModels.SimdLevels), MemberType = typeof(TestModels))]
    public void Deep_input_at_small_batch_matches(SimdLevel simd)
    {
        // Keras MNIST's fc1: K = 5408 exercises the matrix-vector kernel's long depth loop and odd tail.
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(5407, 1, 1), new LayerSpec { Type = "dense", Name = "fc", Units = 100 }), simd, out var t);
        float[] x = TestModels.Random(3 * 5407, seed: 9);

        TestModels.AssertClose(Reference.Dense(x, 3, 5407, t["fc.weight"], t["fc.bias"], 100), TestModels.Forward(model, x, 3));
    }

    [Theory]
    [MemberData(nameof(TestModels.SimdLevels), MemberType = typeof(TestModels))]
    public void Deep_input_at_a_gemm_batch_matches(SimdLevel simd)
    {
        // 33 images: one whole 32-image panel (AVX-512 packs it by 16 x 16 transposes) and one image alone; K = 5407 leaves a tail in every depth block.
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(5407, 1, 1), new LayerSpec { Type = "dense", Name = "fc", Units = 100 }), simd, out var t);
        float[] x = TestModels.Random(33 * 5407, seed: 12);

        TestModels.AssertClose(Reference.Dense(x, 33, 5407, t["fc.weight"], t["fc.bias"], 100), TestModels.Forward(model, x, 33));
    }

    // Keras MNIST's fc1 (5408), and an odd depth (5407) and one of 4n + 3 (5403) for the one-step tails of both vector widths.
    public static IEnumerable<object[]> DepthsAndLevels() =>
        from level in TestModels.SimdLevels()
        from k in new[] { 5408, 5407, 5403 }
        select new object[] { k, level[0] };

    [Theory]
    [MemberData(nameof(DepthsAndLevels))]
    public void An_image_alone_gets_the_same_bits_as_in_a_small_batch(int k, SimdLevel simd)
    {
        // Batch 1 and an odd batch's last image take the matrix-vector kernel's one-image path; it must sum as the pair path does.
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(k, 1, 1), new LayerSpec { Type = "dense", Name = "fc", Units = 100 }), simd, out _);
        float[] x = TestModels.Random(3 * k, seed: 10);
        float[] three = TestModels.Forward(model, x, 3);

        for (int n = 0; n < 3; n++) Assert.Equal(three[(n * 100)..((n + 1) * 100)], TestModels.Forward(model, x[(n * k)..((n + 1) * k)], 1));
    }

    /// <summary>Two images of depth <paramref name="k"/>, two thirds of their inputs zero (a ReLU's map), some of those -0.</summary>
    private static float[] MostlyZero(int k, int seed)
    {
        float[] x = TestModels.Random(2 * k, seed);
        var random = new Random(seed + 1);
        for (int i = 0; i < x.Length; i++)
            if (random.Next(3) > 0) x[i] = random.Next(4) == 0 ? -0f : 0f;
        return x;
    }

    [Theory]
    [MemberData(nameof(DepthsAndLevels))]
    public void An_image_alone_of_mostly_zero_inputs_gets_the_bits_of_a_pair(int k, SimdLevel simd)
    {
        // Alone it reads only its nonzero steps' weights; in a pair every step's. Skipping w * 0 must change no bit.
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(k, 1, 1), new LayerSpec { Type = "dense", Name = "fc", Units = 100 }), simd, out var t);
        float[] x = MostlyZero(k, seed: 14);
        float[] pair = TestModels.Forward(model, x, 2);

        TestModels.AssertClose(Reference.Dense(x, 2, k, t["fc.weight"], t["fc.bias"], 100), pair);
        for (int n = 0; n < 2; n++) Assert.Equal(pair[(n * 100)..((n + 1) * 100)], TestModels.Forward(model, x[(n * k)..((n + 1) * k)], 1));
    }

    [Theory]
    [MemberData(nameof(TestModels.SimdLevels), MemberType = typeof(TestModels))]
    public void A_zero_input_times_an_infinite_weight_is_NaN_for_an_image_alone_too(SimdLevel simd)
    {
        // 0 x inf is NaN: with a weight that is not finite no zero input may be skipped.
        const int K = 5408;
        ModelSpec spec = TestModels.Spec(new TensorShape(K, 1, 1), new LayerSpec { Type = "dense", Name = "fc", Units = 100 });
        TestModels.Build(spec, simd, out var t);
        float[] x = MostlyZero(K, seed: 15);
        int zero = Array.FindIndex(x, 0, K, v => v == 0f);
        t["fc.weight"][3 * K + zero] = float.PositiveInfinity;
        Model model = Model.Create(spec, new TensorWeights(t), new EngineOptions { Simd = simd });

        float[] alone = TestModels.Forward(model, x[..K], 1), pair = TestModels.Forward(model, x, 2);

        Assert.True(float.IsNaN(alone[3]));
        Assert.Equal(pair[..100], alone);
    }

    // 24 units: three panels, so a pair and one alone; 120 on two threads splits the 15 panels at an odd one.
    [SimdTheory(SimdLevel.Vector512)]
    [InlineData(24, 1, 1)]
    [InlineData(24, 3, 1)]
    [InlineData(100, 2, 1)]
    [InlineData(120, 3, 2)]
    [InlineData(120, 64, 2)]
    public void The_512_bit_matrix_vector_kernel_gives_the_256_bit_one_s_bits(int units, int batch, int threads)
    {
        // Each lane sums its row in the same order at both widths: a host's choice of width changes no answer.
        ModelSpec spec = TestModels.Spec(new TensorShape(403, 1, 1), new LayerSpec { Type = "dense", Name = "fc", Units = units });
        float[] x = TestModels.Random(batch * 403, seed: 11);

        float[] wide = TestModels.Forward(TestModels.Build(spec, SimdLevel.Vector512, out _, threads), x, batch);
        float[] narrow = TestModels.Forward(TestModels.Build(spec, SimdLevel.Vector256, out _, threads), x, batch);

        Assert.Equal(narrow, wide);
    }

    // 20 images: one column panel of the AVX-512 kernel, three of the AVX2 one (24 columns) and of the scalar one (8), so a
    // chunk ends inside one.
    public static IEnumerable<object[]> RowSplitCases() =>
        from level in TestModels.SimdLevels() from batch in new[] { 20, 31 } select new object[] { batch, level[0] };

    [Theory]
    [MemberData(nameof(RowSplitCases))]
    public unsafe void A_gemm_batch_in_two_chunks_split_by_weight_rows_gives_one_chunks_bits(int batch, SimdLevel simd)
    {
        // 1000 units of depth 300, the GEMM from 16 images: a classifier's shape, whose batch of one column panel once ran
        // on one core. Its chunks are run here one after the other, as two threads would run them.
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(300, 1, 1), new LayerSpec { Type = "dense", Name = "fc", Units = 1000 }), simd, out var t);
        IParallelWork dense = Assert.IsType<Dense>(model.Layers[0]);
        float[] x = TestModels.Random(batch * 300, seed: 13), whole = new float[batch * 1000], split = new float[batch * 1000];

        fixed (float* input = x, y1 = whole, y2 = split)
        {
            var job = new ParallelJob { Input = input, Batch = batch, Chunks = 1, Output = y1 };
            dense.RunChunk(job, 0);
            job.Chunks = 2;
            job.Output = y2;
            foreach (int chunk in new[] { 0, 1 })
            {
                // Each thread has its own scratch: what another chunk left in this one must not reach the output.
                new Span<float>(ThreadScratch.Get(ScratchFloats), ScratchFloats).Fill(float.NaN);
                dense.RunChunk(job, chunk);
            }
        }

        TestModels.AssertClose(Reference.Dense(x, batch, 300, t["fc.weight"], t["fc.bias"], 1000), split);
        Assert.Equal(whole, split);
    }

    /// <summary>More than the GEMM's per-thread scratch for these layers at any level.</summary>
    private const int ScratchFloats = 1 << 20;
}
