using CnnService.Engine.Format;
using CnnService.Engine.Kernels;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Runtime;

/// <summary>
/// Which activations the plan runs inside another layer (SiLU in its mul, clips and SiLU in a depthwise
/// convolution's input copy or store) and which it must leave alone. That the fused graphs compute what
/// their layers one by one do is <see cref="GraphTests"/>' job (the "inverted-residual" and "mbconv" graphs).
/// </summary>
public class ActivationFusionTests
{
    [Fact]
    public void Clips_on_either_side_of_a_depthwise_convolution_run_inside_it()
    {
        Model model = Build(TestGraphs.InvertedResidual());

        Assert.Equal(["a", "b", "c", "d"], FusedAway(model));
        var dw1 = Layer<DepthwiseConv2D>(model, "dw1");
        var dw2 = Layer<DepthwiseConv2D>(model, "dw2");
        Assert.Equal((FusedActivation.Clamp(0, 6), FusedActivation.Clamp(0, 6)), (dw1.FusedInput, dw1.FusedOutput));
        Assert.Equal((FusedActivation.Clamp(0.25f, 6), FusedActivation.Clamp(-1, 0.5f)), (dw2.FusedInput, dw2.FusedOutput));
    }

    [Fact]
    public void Sigmoid_times_its_own_input_becomes_one_silu_and_fuses_into_a_depthwise_convolution_where_it_can()
    {
        Model model = Build(TestGraphs.MbConv());

        // ex (before dw) and dx (after it) run inside the depthwise convolution; rx, on the squeezed means, runs as SiLU in its mul.
        Assert.Equal(["es", "ex", "ds", "dx", "rs"], FusedAway(model));
        var dw = Layer<DepthwiseConv2D>(model, "dw");
        Assert.Equal((FusedActivation.Silu, FusedActivation.Silu), (dw.FusedInput, dw.FusedOutput));
        Assert.True(Layer<Binary>(model, "rx").FusedSilu);
        Assert.False(Layer<Binary>(model, "scaled").FusedSilu);   // a per-channel gate, not x * sigmoid(x)
    }

    [Fact]
    public void An_activation_whose_neighbour_is_read_elsewhere_runs_on_its_own()
    {
        // dw3's output is read by its clip and by the add: storing it clipped would change the add's input.
        Model model = Build(TestGraphs.MbConv());

        Assert.False(model.IsFusedAway(Index(model, "six")));
        Assert.True(Layer<DepthwiseConv2D>(model, "dw3").FusedOutput.IsNone);
    }

    [Fact]
    public void A_sigmoid_read_by_another_layer_too_stays_a_layer_and_the_mul_stays_a_mul()
    {
        ModelSpec spec = TestGraphs.Graph(new TensorShape(2, 5, 9),
            TestGraphs.Conv("t", 4, 3, 1),
            TestGraphs.Layer("sigmoid", "g", "t"),
            TestGraphs.Layer("mul", "silu", "t", "g"),
            TestGraphs.Layer("concat", "out", "silu", "g"));
        Model model = Build(spec);

        Assert.Empty(FusedAway(model));
        Assert.False(Layer<Binary>(model, "silu").FusedSilu);
        AssertEqualsReference(spec);
    }

    [Fact]
    public void A_clip_read_by_a_depthwise_convolution_and_another_layer_runs_on_its_own()
    {
        // Fused into the convolution's input copy, the add would read the unclipped tensor.
        ModelSpec spec = TestGraphs.Graph(new TensorShape(3, 7, 10),
            TestGraphs.Conv("t", 4, 1, 0),
            TestGraphs.Clip("c", 0, 6),
            TestGraphs.Depthwise("dw", 4, 3, 1, 1),
            TestGraphs.Layer("add", "out", "dw", "c"));
        Model model = Build(spec);

        Assert.Empty(FusedAway(model));
        AssertEqualsReference(spec);
    }

    [Fact]
    public void A_depthwise_convolution_keeps_its_fused_relu_and_takes_the_activation_before_it()
    {
        ModelSpec spec = TestGraphs.Graph(new TensorShape(3, 7, 10),
            TestGraphs.Conv("t", 4, 1, 0),
            TestGraphs.Clip("c", -0.5f, 0.5f),
            TestGraphs.Depthwise("dw", 4, 3, 2, 1),
            TestGraphs.Layer("relu", "r"));
        Model model = Build(spec);

        var dw = Layer<DepthwiseConv2D>(model, "dw");
        Assert.Equal(["c", "r"], FusedAway(model));
        Assert.Equal((FusedActivation.Clamp(-0.5f, 0.5f), FusedActivation.Relu), (dw.FusedInput, dw.FusedOutput));
        AssertEqualsReference(spec);
    }

    private static Model Build(ModelSpec spec) => TestModels.Build(spec, Simd.Best, out _);

    private static string[] FusedAway(Model model) =>
        Enumerable.Range(0, model.Layers.Count).Where(model.IsFusedAway).Select(i => model.Layers[i].Name!).ToArray();

    private static int Index(Model model, string name) => model.Layers.ToList().FindIndex(l => l.Name == name);

    private static T Layer<T>(Model model, string name) where T : Layer => Assert.IsType<T>(model.Layers[Index(model, name)]);

    private static void AssertEqualsReference(ModelSpec spec)
    {
        foreach (SimdLevel simd in TestModels.SimdLevels().Select(l => (SimdLevel)l[0]))
        foreach (int batch in new[] { 1, 3 })
        {
            Model model = TestModels.Build(spec, simd, out var tensors, threads: 2);
            float[] x = TestModels.Random(batch * model.InputShape.Size, seed: 75);
            TestModels.AssertClose(GraphReference.Run(spec, tensors, x, batch)[^1], TestModels.Forward(model, x, batch));
        }
    }
}
