using CnnService.Engine.Format;
using CnnService.Engine.Kernels;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Runtime;

/// <summary>
/// Which activations the plan runs inside another layer (SiLU and hardswish in their mul, clips, SiLU and hardswish in a depthwise
/// convolution's input copy or store, or in the store of a convolution's direct or pointwise tiles, a ReLU in a residual add's store) and which it must leave alone. That the fused graphs compute what
/// their layers one by one do is <see cref="GraphTests"/>' job (the "inverted-residual" and "mbconv" graphs).
/// </summary>
public class ActivationFusionTests
{
    [Fact]
    public void Clips_on_either_side_of_a_depthwise_convolution_run_inside_it()
    {
        Model model = Build(TestGraphs.InvertedResidual());

        Assert.Equal(["a", "b", "c", "d"], TestModels.FusedAway(model));
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
        // (The gate's mul, scaled, also runs inside the projection where the SIMD level's plan gives it the implicit GEMM.)
        Assert.Equal(["es", "ex", "ds", "dx", "rs"], TestModels.FusedAway(model).Where(name => name != "scaled"));
        var dw = Layer<DepthwiseConv2D>(model, "dw");
        Assert.Equal((FusedActivation.Silu, FusedActivation.Silu), (dw.FusedInput, dw.FusedOutput));
        Assert.Equal(FusedActivation.Silu, Layer<Binary>(model, "rx").SelfGate);
        Assert.True(Layer<Binary>(model, "scaled").SelfGate.IsNone);   // a per-channel gate, not x * sigmoid(x)
    }

    [Fact]
    public void Hardswish_exported_as_its_gate_times_its_input_becomes_one_hardswish_on_either_side_of_a_depthwise_convolution()
    {
        // PyTorch's hardswish before opset 14: mul(x, HardSigmoid(x, alpha 1/6, beta 0.5)).
        ModelSpec spec = HardSwishBlock(alpha: 1f / 6f);
        Model model = Build(spec);

        Assert.Equal(["eg", "ex", "dg", "dx"], TestModels.FusedAway(model));
        var dw = Layer<DepthwiseConv2D>(model, "dw");
        Assert.Equal((FusedActivation.HardSwish, FusedActivation.HardSwish), (dw.FusedInput, dw.FusedOutput));
        AssertEqualsReference(spec);
    }

    [Fact]
    public void A_hard_sigmoid_of_another_slope_times_its_input_stays_two_layers()
    {
        // Keras' hard sigmoid (alpha 0.2) times x is not hardswish.
        ModelSpec spec = HardSwishBlock(alpha: 0.2f);
        Model model = Build(spec);

        Assert.Empty(TestModels.FusedAway(model));
        Assert.True(Layer<Binary>(model, "ex").SelfGate.IsNone);
        AssertEqualsReference(spec);
    }

    [Fact]
    public void A_hardswish_layer_runs_inside_the_depthwise_convolutions_next_to_it()
    {
        // Opset 14 and later export HardSwish as one operator.
        ModelSpec spec = TestGraphs.Graph(new TensorShape(3, 9, 13),
            TestGraphs.Conv("e", 8, 1, 0),
            TestGraphs.Layer("hardswish", "ex"),
            TestGraphs.Depthwise("dw", 8, 3, 2, 1),
            TestGraphs.Layer("hardswish", "dx"),
            TestGraphs.Conv("p", 4, 1, 0));
        Model model = Build(spec);

        Assert.Equal(["ex", "dx"], TestModels.FusedAway(model));
        var dw = Layer<DepthwiseConv2D>(model, "dw");
        Assert.Equal((FusedActivation.HardSwish, FusedActivation.HardSwish), (dw.FusedInput, dw.FusedOutput));
        AssertEqualsReference(spec);
    }

    /// <summary>MobileNet V3's expand, hardswish, depthwise, hardswish, project, each hardswish as x times a hard sigmoid of
    /// slope <paramref name="alpha"/>. Odd widths leave every vector loop a tail.</summary>
    private static ModelSpec HardSwishBlock(float alpha) => TestGraphs.Graph(new TensorShape(3, 9, 13),
        TestGraphs.Conv("e", 8, 1, 0),
        new LayerSpec { Type = "hardsigmoid", Name = "eg", Alpha = alpha, Beta = 0.5f },
        TestGraphs.Layer("mul", "ex", "e", "eg"),
        TestGraphs.Depthwise("dw", 8, 3, 2, 1),
        new LayerSpec { Type = "hardsigmoid", Name = "dg", Alpha = alpha, Beta = 0.5f },
        TestGraphs.Layer("mul", "dx", "dw", "dg"),
        TestGraphs.Conv("p", 4, 1, 0));

    [Fact]
    public void A_relu_that_is_the_only_reader_of_a_residual_add_runs_in_the_adds_store()
    {
        Model model = Build(TestGraphs.Residual());

        Assert.True(model.IsFusedAway(TestModels.IndexOf(model, "out")));
        Assert.True(Layer<Binary>(model, "sum").FusedRelu);
    }

    [Fact]
    public void A_relu_after_an_add_whose_sum_is_read_again_runs_on_its_own()
    {
        ModelSpec spec = TestGraphs.Graph(new TensorShape(2, 6, 6),
            TestGraphs.Conv("t", 4, 3, 1),
            TestGraphs.Conv("u", 4, 3, 1, "input"),
            TestGraphs.Layer("add", "s", "t", "u"),
            TestGraphs.Layer("relu", "r", "s"),
            TestGraphs.Layer("mul", "out", "r", "s"));
        Model model = Build(spec);

        Assert.False(model.IsFusedAway(TestModels.IndexOf(model, "r")));
        Assert.False(Layer<Binary>(model, "s").FusedRelu);
    }

    [Fact]
    public void An_activation_whose_neighbour_is_read_elsewhere_runs_on_its_own()
    {
        // dw3's output is read by its clip and by the add: storing it clipped would change the add's input.
        Model model = Build(TestGraphs.MbConv());

        Assert.False(model.IsFusedAway(TestModels.IndexOf(model, "six")));
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

        Assert.Empty(TestModels.FusedAway(model));
        Assert.True(Layer<Binary>(model, "silu").SelfGate.IsNone);
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

        Assert.Empty(TestModels.FusedAway(model));
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
        Assert.Equal(["c", "r"], TestModels.FusedAway(model));
        Assert.Equal((FusedActivation.Clamp(-0.5f, 0.5f), FusedActivation.Relu), (dw.FusedInput, dw.FusedOutput));
        AssertEqualsReference(spec);
    }

    [Fact]
    public void A_clip_between_a_pointwise_convolution_and_a_depthwise_one_whose_input_outgrows_l2_runs_in_the_pointwise_tiles()
    {
        // MobileNet V2's expand, ReLU6, depthwise, ReLU6 with 32 channels on planes just too large for this machine's L2 together.
        int side = (int)Math.Sqrt(BatchChunking.L2Bytes / sizeof(float) / 32.0) + 1;
        ModelSpec spec = ExpandClipDepthwise(side);
        Model model = Build(spec);

        Assert.Equal(["c", "d"], TestModels.FusedAway(model));
        var e = Layer<Conv2D>(model, "e");
        var dw = Layer<DepthwiseConv2D>(model, "dw");
        if (e.Lowering == "pointwise")
            Assert.Equal((FusedActivation.Clamp(0, 6), FusedActivation.None, FusedActivation.Clamp(0, 6)), (e.FusedOutput, dw.FusedInput, dw.FusedOutput));
        else
            Assert.Equal((FusedActivation.None, FusedActivation.Clamp(0, 6)), (e.FusedOutput, dw.FusedInput)); // no AVX-512: the GEMM fuses only a ReLU
        AssertEqualsReference(spec, batches: [1, 2]);
    }

    [Fact]
    public void A_clip_before_a_depthwise_convolution_that_copies_its_input_in_l2_runs_in_that_copy()
    {
        ModelSpec spec = ExpandClipDepthwise(14);
        Model model = Build(spec);

        Assert.Equal(["c", "d"], TestModels.FusedAway(model));
        Assert.True(Layer<Conv2D>(model, "e").FusedOutput.IsNone);
        Assert.Equal(FusedActivation.Clamp(0, 6), Layer<DepthwiseConv2D>(model, "dw").FusedInput);
        AssertEqualsReference(spec);
    }

    private static ModelSpec ExpandClipDepthwise(int side) => TestGraphs.Graph(new TensorShape(16, side, side),
        TestGraphs.Conv("e", 32, 1, 0),
        TestGraphs.Clip("c", 0, 6),
        TestGraphs.Depthwise("dw", 32, 3, 2, 1),
        TestGraphs.Clip("d", 0, 6));

    [Fact]
    public void A_clip_after_a_direct_convolution_runs_in_its_tiles_and_a_silu_does_not()
    {
        // 3x3 on rows of 28 with 32 filters and K = 144: direct tiles on AVX-512. The SiLU is a sigmoid and a mul of it.
        ModelSpec spec = TestGraphs.Graph(new TensorShape(16, 5, 28),
            TestGraphs.Conv("t", 32, 3, 1),
            TestGraphs.Clip("c", -1, 1),
            TestGraphs.Conv("u", 32, 3, 1),
            TestGraphs.Layer("sigmoid", "g", "u"),
            TestGraphs.Layer("mul", "silu", "u", "g"));
        Model model = Build(spec);

        var t = Layer<Conv2D>(model, "t");
        if (t.Lowering == "direct")
        {
            Assert.Equal(["c", "g"], TestModels.FusedAway(model));   // the sigmoid is part of the SiLU the mul computes
            Assert.Equal(FusedActivation.Clamp(-1, 1), t.FusedOutput);
            Assert.True(Layer<Conv2D>(model, "u").FusedOutput.IsNone);
        }

        AssertEqualsReference(spec);
    }

    [Fact]
    public void A_clip_after_a_convolution_whose_output_is_read_elsewhere_too_runs_on_its_own()
    {
        // Stored clipped, the add would read the clipped tensor for the unclipped one.
        ModelSpec spec = TestGraphs.Graph(new TensorShape(16, 14, 14),
            TestGraphs.Conv("e", 32, 1, 0),
            TestGraphs.Clip("c", 0, 6),
            TestGraphs.Layer("add", "out", "c", "e"));
        Model model = Build(spec);

        Assert.Empty(TestModels.FusedAway(model));
        Assert.True(Layer<Conv2D>(model, "e").FusedOutput.IsNone);
        AssertEqualsReference(spec);
    }

    private static Model Build(ModelSpec spec) => TestModels.Build(spec, Simd.Best, out _);

    private static T Layer<T>(Model model, string name) where T : Layer => Assert.IsType<T>(model.Layers[TestModels.IndexOf(model, name)]);

    private static void AssertEqualsReference(ModelSpec spec, int[]? batches = null)
    {
        foreach (SimdLevel simd in TestModels.SimdLevels().Select(l => (SimdLevel)l[0]))
        foreach (int batch in batches ?? [1, 3])
        {
            Model model = TestModels.Build(spec, simd, out var tensors, threads: 2);
            float[] x = TestModels.Random(batch * model.InputShape.Size, seed: 75);
            TestModels.AssertClose(GraphReference.Run(spec, tensors, x, batch)[^1], TestModels.Forward(model, x, batch));
        }
    }
}
