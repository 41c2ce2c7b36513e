using CnnService.Engine.Format;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Runtime;

/// <summary>A 1x1 expansion whose output outgrows the L2 run by the depthwise layer after it, a band of rows at a time
/// (<see cref="DepthwiseConv2D.Expansion"/>): when the plan does it, and that the pass computes what the layers one by one do.</summary>
public class ExpansionFusionTests
{
    /// <summary>A side at which 32 channels of one image take more than twice this machine's L2: the plan bands them.</summary>
    internal static readonly int LargeSide = (int)Math.Sqrt(2.0 * BatchChunking.L2Bytes / sizeof(float) / 32) + 2;

    [Fact]
    public void An_expansion_whose_large_output_only_a_depthwise_layer_reads_runs_inside_it()
    {
        Model model = Build(ExpandDepthwise(LargeSide, kernel: 3, stride: 2));
        if (Layer<Conv2D>(model, "e").Lowering != "pointwise") return; // no AVX-512: no pointwise tiles to run in bands

        Assert.Equal(["e", "c", "d"], TestModels.FusedAway(model));
        Assert.Same(model.RunningLayer(TestModels.IndexOf(model, "e")), Layer<DepthwiseConv2D>(model, "dw").Expansion);
        Assert.False(model.RunsLayer(TestModels.IndexOf(model, "e")));
    }

    [Theory]
    [MemberData(nameof(Runs))]
    public void Bands_give_the_bits_of_the_layers_run_one_by_one(int kernel, int stride, int batch, int threads)
    {
        ModelSpec spec = ExpandDepthwise(LargeSide, kernel, stride);
        Model model = Build(spec, threads);
        float[] x = TestModels.Random(batch * model.InputShape.Size, seed: 91);

        float[] output = TestModels.Forward(model, x, batch);

        // A trace runs every layer on its own, the expansion's whole map written out and read back.
        int size = model.InputShape.Size;
        for (int n = 0; n < batch; n++)
        {
            float[] alone = model.Trace(x.AsSpan(n * size, size))[^1];
            Assert.Equal(alone, output.AsSpan(n * alone.Length, alone.Length).ToArray());
        }
    }

    public static IEnumerable<object[]> Runs() =>
        from shape in new (int Kernel, int Stride)[] { (3, 2), (3, 1), (5, 2) }
        from run in new (int Batch, int Threads)[] { (1, 1), (1, 2), (2, 2), (3, 1) }
        select new object[] { shape.Kernel, shape.Stride, run.Batch, run.Threads };

    [Fact]
    public void A_silu_expansion_in_bands_computes_the_layers_one_by_one()
    {
        // EfficientNet's expand, SiLU (a sigmoid and a mul of it), depthwise at stride 2, SiLU.
        ModelSpec spec = TestGraphs.Graph(new TensorShape(16, LargeSide, LargeSide),
            TestGraphs.Layer("relu", "in"),
            TestGraphs.Conv("e", 32, 1, 0),
            TestGraphs.Layer("sigmoid", "g", "e"),
            TestGraphs.Layer("mul", "silu", "e", "g"),
            TestGraphs.Depthwise("dw", 32, 3, 2, 1),
            TestGraphs.Layer("sigmoid", "h", "dw"),
            TestGraphs.Layer("mul", "out", "dw", "h"));
        Model model = TestModels.Build(spec, Simd.Best, out var tensors, threads: 2);
        float[] x = TestModels.Random(2 * model.InputShape.Size, seed: 92);

        if (Layer<Conv2D>(model, "e").Lowering == "pointwise") Assert.NotNull(Layer<DepthwiseConv2D>(model, "dw").Expansion);
        TestModels.AssertClose(GraphReference.Run(spec, tensors, x, 2)[^1], TestModels.Forward(model, x, 2));
    }

    [Fact]
    public void An_expansion_that_fits_twice_the_l2_runs_on_its_own()
    {
        int side = (int)Math.Sqrt(2.0 * BatchChunking.L2Bytes / sizeof(float) / 32) - 2;
        Model model = Build(ExpandDepthwise(side, kernel: 3, stride: 2));

        Assert.Equal(["c", "d"], TestModels.FusedAway(model));
        Assert.Null(Layer<DepthwiseConv2D>(model, "dw").Expansion);
    }

    [Fact]
    public void An_expansion_read_by_another_layer_too_runs_on_its_own()
    {
        ModelSpec spec = TestGraphs.Graph(new TensorShape(16, LargeSide, LargeSide),
            TestGraphs.Layer("relu", "in"),
            TestGraphs.Conv("e", 32, 1, 0),
            TestGraphs.Depthwise("dw", 32, 3, 1, 1),
            TestGraphs.Layer("add", "out", "dw", "e"));
        Model model = Build(spec);

        Assert.Empty(TestModels.FusedAway(model));
        Assert.Null(Layer<DepthwiseConv2D>(model, "dw").Expansion);
    }

    [Fact]
    public void An_expansion_of_a_tensor_other_layers_read_too_still_runs_in_bands()
    {
        // The expansion reads a ReLU fused into the convolution before it, which a pool reads as well.
        ModelSpec spec = TestGraphs.Graph(new TensorShape(8, LargeSide, LargeSide),
            TestGraphs.Conv("a", 16, 1, 0),
            TestGraphs.Layer("relu", "ar"),
            TestGraphs.Conv("e", 32, 1, 0),
            TestGraphs.Clip("c", 0, 6),
            TestGraphs.Depthwise("dw", 32, 3, 2, 1),
            new LayerSpec { Type = "maxpool2d", Name = "p", Inputs = ["ar"], Kernel = Pair.Square(3), Stride = Pair.Square(2), Padding = Padding.Of(1, 1) },
            TestGraphs.Layer("concat", "out", "dw", "p"));
        Model model = TestModels.Build(spec, Simd.Best, out var tensors);
        float[] x = TestModels.Random(model.InputShape.Size, seed: 94);

        if (Layer<Conv2D>(model, "e").Lowering == "pointwise") Assert.NotNull(Layer<DepthwiseConv2D>(model, "dw").Expansion);
        TestModels.AssertClose(GraphReference.Run(spec, tensors, x, 1)[^1], TestModels.Forward(model, x, 1));
    }

    [Fact]
    public void A_trace_still_shows_the_expansions_map()
    {
        ModelSpec spec = ExpandDepthwise(LargeSide, kernel: 3, stride: 2);
        Model model = TestModels.Build(spec, Simd.Best, out var tensors);
        float[] x = TestModels.Random(model.InputShape.Size, seed: 93);

        float[][] trace = model.Trace(x), expected = GraphReference.Run(spec, tensors, x, 1);

        int e = TestModels.IndexOf(model, "e");
        TestModels.AssertClose(expected[e], trace[e]);
    }

    /// <summary>MobileNet V2's expand, ReLU6, depthwise, ReLU6: 16 -> 32 channels on a <paramref name="side"/> square map, after a
    /// ReLU (an expansion of the model's input itself stays a layer: the plan sizes that input by its readers).</summary>
    internal static ModelSpec ExpandDepthwise(int side, int kernel, int stride) => TestGraphs.Graph(new TensorShape(16, side, side),
        TestGraphs.Layer("relu", "in"),
        TestGraphs.Conv("e", 32, 1, 0),
        TestGraphs.Clip("c", 0, 6),
        TestGraphs.Depthwise("dw", 32, kernel, stride, kernel / 2),
        TestGraphs.Clip("d", 0, 6));

    private static Model Build(ModelSpec spec, int threads = 1) => TestModels.Build(spec, Simd.Best, out _, threads);

    private static T Layer<T>(Model model, string name) where T : Layer =>
        Assert.IsType<T>(model.RunningLayer(TestModels.IndexOf(model, name)));
}
