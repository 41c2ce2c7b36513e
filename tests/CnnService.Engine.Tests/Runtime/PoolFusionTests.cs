using CnnService.Engine.Format;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Runtime;

/// <summary>Which 2x2 max pools the plan runs inside the small convolution before them (<see cref="Conv2D.TryFusePool"/>),
/// which it leaves alone, and that the fused pass computes what the layers one by one do.</summary>
public class PoolFusionTests
{
    private static readonly TensorShape Mnist = new(1, 28, 28);

    [SimdFact(SimdLevel.Vector512)]   // the fused kernel is AVX-512
    public void A_max_pool_after_a_convolution_on_one_channel_and_its_relu_runs_inside_the_convolution()
    {
        Model model = TestModels.Build(ConvReluPool(Mnist), SimdLevel.Vector512, out _);

        Assert.Equal(["r", "p"], TestModels.FusedAway(model));
        Assert.Equal("pooled", Assert.IsType<Conv2D>(model.Layers[0]).Lowering);
    }

    [Fact]
    public void At_vector256_the_pool_runs_inside_the_convolution_too()
    {
        if (!CnnService.Engine.Kernels.ConvPool2x2.Supports(SimdLevel.Vector256)) return;   // the 256-bit kernel needs AVX2 and FMA
        Model model = TestModels.Build(ConvReluPool(Mnist), SimdLevel.Vector256, out _);

        Assert.Equal(["r", "p"], TestModels.FusedAway(model));
        Assert.Equal("pooled", Assert.IsType<Conv2D>(model.Layers[0]).Lowering);
    }

    [Fact]
    public void At_the_scalar_level_the_pool_stays_a_layer()
    {
        Model model = TestModels.Build(ConvReluPool(Mnist), SimdLevel.Scalar, out _);

        Assert.Equal(["r"], TestModels.FusedAway(model));
    }

    [Fact]
    public void A_pool_on_a_padded_convolution_stays_a_layer()
    {
        Model model = TestModels.Build(TestGraphs.Graph(Mnist, TestGraphs.Conv("c", 8, 3, 1), TestGraphs.Layer("relu", "r"), Pool("p")), Simd.Best, out _);

        Assert.Equal(["r"], TestModels.FusedAway(model));
    }

    [Fact]
    public void A_pool_on_a_convolution_whose_output_is_read_elsewhere_too_stays_a_layer()
    {
        ModelSpec spec = TestGraphs.Graph(new TensorShape(2, 10, 10),
            TestGraphs.Conv("c", 4, 3, 0),
            Pool("p"),
            TestGraphs.Layer("flatten", "fp", "p"),
            TestGraphs.Layer("flatten", "fc", "c"),
            TestGraphs.Layer("concat", "out", "fp", "fc"));
        Model model = TestModels.Build(spec, Simd.Best, out _);

        Assert.Empty(TestModels.FusedAway(model));
        AssertEqualsReference(spec);
    }

    [Fact]
    public void A_pool_that_keeps_a_last_odd_row_by_ceil_mode_stays_a_layer()
    {
        var ceil = new LayerSpec { Type = "maxpool2d", Name = "p", Kernel = Pair.Square(2), Extra = new System.Text.Json.Nodes.JsonObject { ["ceil_mode"] = true } };
        ModelSpec spec = TestGraphs.Graph(new TensorShape(1, 9, 9), TestGraphs.Conv("c", 4, 3, 0), ceil);   // a 7x7 map: 4x4 with ceil_mode
        Model model = TestModels.Build(spec, Simd.Best, out _);

        Assert.Empty(TestModels.FusedAway(model));
        Assert.Equal(new TensorShape(4, 4, 4), model.OutputShape);
    }

    [Theory]
    [InlineData(1, 28, 28)]   // Keras' MNIST network's first layer
    [InlineData(3, 11, 37)]   // three channels, an odd conv output, two column blocks
    public void The_fused_pass_computes_the_convolution_relu_and_pool_one_by_one(int c, int h, int w) =>
        AssertEqualsReference(ConvReluPool(new TensorShape(c, h, w)));

    [Fact]
    public void A_pool_runs_inside_a_convolution_without_a_relu_too()
    {
        ModelSpec spec = TestGraphs.Graph(new TensorShape(2, 12, 12), TestGraphs.Conv("c", 6, 3, 0), Pool("p"));
        if (Simd.IsSupported(SimdLevel.Vector512)) Assert.Equal(["p"], TestModels.FusedAway(TestModels.Build(spec, SimdLevel.Vector512, out _)));
        AssertEqualsReference(spec);
    }

    [Fact]
    public void A_trace_still_shows_the_convolutions_full_map_and_the_pool_of_it()
    {
        ModelSpec spec = ConvReluPool(Mnist);
        Model model = TestModels.Build(spec, Simd.Best, out var tensors);
        float[] x = TestModels.Random(Mnist.Size, seed: 76);

        float[][] trace = model.Trace(x);

        float[][] expected = GraphReference.Run(spec, tensors, x, 1);
        Assert.Equal(32 * 26 * 26, trace[0].Length);
        for (int i = 0; i < expected.Length; i++) TestModels.AssertClose(expected[i], trace[i]);
    }

    /// <summary>Conv 3x3 valid to 32 channels, ReLU, 2x2 max pool, flatten, dense 10: Keras' MNIST network, made smaller.</summary>
    private static ModelSpec ConvReluPool(TensorShape input) => TestGraphs.Graph(input,
        TestGraphs.Conv("c", 32, 3, 0),
        TestGraphs.Layer("relu", "r"),
        Pool("p"),
        TestGraphs.Layer("flatten", "f"),
        new LayerSpec { Type = "dense", Name = "d", Units = 10 });

    private static LayerSpec Pool(string name) => new() { Type = "maxpool2d", Name = name, Kernel = Pair.Square(2) };

    private static void AssertEqualsReference(ModelSpec spec)
    {
        foreach (SimdLevel simd in TestModels.SimdLevels().Select(l => (SimdLevel)l[0]))
        foreach (int batch in new[] { 1, 3, 17 })
        foreach (int threads in new[] { 1, 2 })
        {
            Model model = TestModels.Build(spec, simd, out var tensors, threads);
            float[] x = TestModels.Random(batch * model.InputShape.Size, seed: 75);
            TestModels.AssertClose(GraphReference.Run(spec, tensors, x, batch)[^1], TestModels.Forward(model, x, batch));
        }
    }
}
