using CnnService.Engine.Format;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Runtime;

/// <summary>A plan chosen by measurement (<see cref="PlanMode.Measure"/>): which lowering it keeps for the times it sees, which
/// layers it measures, and that the model it builds computes what the fixed plan does. The times come from a stand-in
/// clock (<see cref="EngineOptions.PlanTimer"/>) so that every choice is certain; one test runs the real clock.</summary>
public class MeasuredPlanTests
{
    /// <summary>A 3x3 layer of 64 filters on a 20x56 map: direct tiles first with AVX-512, implicit GEMM with AVX2.</summary>
    private static ModelSpec Wide3x3() => TestModels.Spec(new TensorShape(16, 20, 56),
        new LayerSpec { Type = "conv2d", Name = "conv", Filters = 64, Kernel = Pair.Square(3), Padding = Padding.Of(1, 1) },
        new LayerSpec { Type = "relu" });

    [SimdFact(SimdLevel.Vector256)]
    public void The_plan_keeps_the_lowering_that_times_fastest()
    {
        Model model = Build(Wide3x3(), Clock(ConvLowering.Im2Col, 1.0, others: 2.0));

        Assert.Equal("im2col", Conv(model).Lowering);
        LoweringChoice choice = model.MeasuredPlan[0];
        Assert.Equal(ConvLowering.Im2Col, choice.Lowering);
        Assert.Equal(Conv(Build(Wide3x3(), timer: null)).Candidates[0], choice.Fixed);
        Assert.Equal(Conv(model).Candidates.Order(), choice.Milliseconds.Keys.Order());
        Assert.False(choice.FromCache);
    }

    [SimdFact(SimdLevel.Vector256)]
    public void A_lowering_within_the_margin_of_the_fixed_one_does_not_replace_it()
    {
        ConvLowering fixedChoice = Conv(Build(Wide3x3(), timer: null)).Candidates[0];

        Model model = Build(Wide3x3(), (_, l) => l == fixedChoice ? 1.0 + PlanMeasurement.Margin / 2 : 1.0);

        Assert.Equal(fixedChoice.Name(), Conv(model).Lowering);
        Assert.Equal(fixedChoice, model.MeasuredPlan[0].Lowering);
    }

    [SimdFact(SimdLevel.Vector256)]
    public void A_lowering_beyond_the_margin_replaces_the_fixed_one()
    {
        ConvLowering fixedChoice = Conv(Build(Wide3x3(), timer: null)).Candidates[0];

        Model model = Build(Wide3x3(), (_, l) => l == fixedChoice ? 1.0 + 2 * PlanMeasurement.Margin : l == ConvLowering.Im2Col ? 1.0 : 9.0);

        Assert.Equal("im2col", Conv(model).Lowering);
    }

    [Fact]
    public void A_fixed_plan_measures_nothing()
    {
        int calls = 0;
        var options = new EngineOptions { Threads = 1, PlanTimer = (_, _) => ++calls };

        Model model = Model.Create(Wide3x3(), WeightInitializer.Initialize(Wide3x3(), 1), options);

        Assert.Empty(model.MeasuredPlan);
        Assert.Equal(0, calls);
    }

    [Fact]
    public void A_layer_with_one_lowering_is_not_measured()
    {
        int calls = 0;
        Model model = Build(Wide3x3(), (_, _) => ++calls, SimdLevel.Scalar);

        Assert.Empty(model.MeasuredPlan);
        Assert.Equal(0, calls);
    }

    [SimdFact(SimdLevel.Vector512)]
    public void A_convolution_whose_store_takes_a_clip_keeps_the_lowering_the_fusion_needs()
    {
        // Pointwise tiles apply the ReLU6 as they store; a GEMM lowering would need the clip's own pass.
        ModelSpec spec = TestModels.Spec(new TensorShape(16, 20, 56),
            new LayerSpec { Type = "conv2d", Name = "e", Filters = 64, Kernel = Pair.Square(1) },
            TestGraphs.Clip("c", 0, 6));

        Model model = Build(spec, Clock(ConvLowering.Im2Col, 1.0, others: 2.0));

        Assert.Equal("pointwise", Conv(model).Lowering);
        Assert.Empty(model.MeasuredPlan);
    }

    [SimdFact(SimdLevel.Vector512)]
    public void Direct_rows_that_write_the_next_layers_padding_keep_their_lowering()
    {
        ModelSpec spec = TestModels.Spec(new TensorShape(16, 20, 56),
            new LayerSpec { Type = "conv2d", Name = "a", Filters = 64, Kernel = Pair.Square(3), Padding = Padding.Of(1, 1) },
            new LayerSpec { Type = "conv2d", Name = "b", Filters = 64, Kernel = Pair.Square(3), Padding = Padding.Of(1, 1) });

        Model model = Build(spec, Clock(ConvLowering.Im2Col, 1.0, others: 2.0));

        Assert.Equal("direct", ((Conv2D)model.RunningLayer(0)).Lowering);
        Assert.Equal("direct", ((Conv2D)model.RunningLayer(1)).Lowering);
        Assert.Empty(model.MeasuredPlan);
    }

    /// <summary>A residual block on a map wide enough for every lowering: a 3x3 layer, a 1x1 one read beside it by the add, and a
    /// 3x3 stride-2 layer after the join; every one of them has a choice with AVX2 or AVX-512.</summary>
    private static ModelSpec WideResidual() => TestGraphs.Graph(new TensorShape(16, 12, 40),
        TestGraphs.Conv("a", 32, 3, 1),
        TestGraphs.Layer("relu", "ar"),
        TestGraphs.Conv("b", 32, 1, 0),
        TestGraphs.Layer("add", "sum", "b", "ar"),
        TestGraphs.Layer("relu", "r"),
        new LayerSpec { Type = "conv2d", Name = "s", Filters = 32, Kernel = Pair.Square(3), Stride = Pair.Square(2), Padding = Padding.Of(1, 1) });

    public static IEnumerable<object[]> GraphsAndLowerings() =>
        from graph in new[] { "wide-residual", "fire" }
        from lowering in Enum.GetValues<ConvLowering>()
        from threads in new[] { 1, 2 }
        select new object[] { graph, lowering, threads };

    [SimdTheory(SimdLevel.Vector256)]
    [MemberData(nameof(GraphsAndLowerings))]
    public void A_measured_plan_computes_what_the_layers_compute(string graph, ConvLowering fastest, int threads)
    {
        // Whatever the clock favours, wherever the shape admits it: the model still computes the graph.
        if (graph == "fire" && Simd.Best != SimdLevel.Vector512) return;   // with AVX2 alone its 13-wide map admits im2col only
        ModelSpec spec = graph == "fire" ? TestGraphs.Fire() : WideResidual();
        WeightSet weights = WeightInitializer.Initialize(spec, 7);
        Dictionary<string, float[]> tensors = weights.AllFloat32().ToDictionary(t => t.Name, t => t.Data);
        Model model = Model.Create(spec, weights, new EngineOptions { Threads = threads, Plan = PlanMode.Measure, PlanTimer = Clock(fastest, 1.0, others: 2.0) });
        float[] x = TestModels.Random(3 * model.InputShape.Size, seed: 8);

        TestModels.AssertClose(GraphReference.Run(spec, tensors, x, 3)[^1], TestModels.Forward(model, x, 3));
        Assert.NotEmpty(model.MeasuredPlan);
        Assert.All(model.MeasuredPlan, e =>
        {
            Assert.Equal(e.Value.Milliseconds.ContainsKey(fastest) ? fastest : e.Value.Fixed, e.Value.Lowering);
            Assert.Equal(e.Value.Lowering.Name(), ((Conv2D)model.RunningLayer(e.Key)).Lowering);
        });
    }

    [SimdFact(SimdLevel.Vector256)]
    public void The_clock_times_every_candidate_and_the_model_computes_the_same()
    {
        WeightSet weights = WeightInitializer.Initialize(Wide3x3(), 1);
        Dictionary<string, float[]> tensors = weights.AllFloat32().ToDictionary(t => t.Name, t => t.Data);

        Model model = Model.Create(Wide3x3(), weights, new EngineOptions { Threads = 2, Plan = PlanMode.Measure });

        LoweringChoice choice = Assert.Single(model.MeasuredPlan).Value;
        Assert.Equal(Conv(model).Candidates.Order(), choice.Milliseconds.Keys.Order());
        Assert.All(choice.Milliseconds.Values, ms => Assert.True(double.IsFinite(ms) && ms > 0, $"{ms} ms"));
        Assert.Equal(choice.Lowering.Name(), Conv(model).Lowering);
        float[] x = TestModels.Random(2 * model.InputShape.Size, seed: 4);
        TestModels.AssertClose(GraphReference.Run(Wide3x3(), tensors, x, 2)[^1], TestModels.Forward(model, x, 2));
    }

    [SimdFact(SimdLevel.Vector256)]
    public void The_clock_times_each_layer_of_a_graph_on_what_it_reads_in_a_pass()
    {
        // Layers past the first are timed on their inputs from a traced pass: each is a tensor of its own shape.
        ModelSpec spec = WideResidual();
        WeightSet weights = WeightInitializer.Initialize(spec, 3);
        Dictionary<string, float[]> tensors = weights.AllFloat32().ToDictionary(t => t.Name, t => t.Data);

        Model model = Model.Create(spec, weights, new EngineOptions { Threads = 2, Plan = PlanMode.Measure });

        Assert.Contains(model.MeasuredPlan.Keys, i => model.InputsOf(i)[0] >= 0);
        Assert.All(model.MeasuredPlan.Values, c => Assert.All(c.Milliseconds.Values, ms => Assert.True(double.IsFinite(ms) && ms > 0, $"{ms} ms")));
        float[] x = TestModels.Random(2 * model.InputShape.Size, seed: 5);
        TestModels.AssertClose(GraphReference.Run(spec, tensors, x, 2)[^1], TestModels.Forward(model, x, 2));
    }

    /// <summary>A stand-in clock: <paramref name="lowering"/> takes <paramref name="ms"/>, every other <paramref name="others"/>.</summary>
    internal static Func<Conv2D, ConvLowering, double> Clock(ConvLowering lowering, double ms, double others) => (_, l) => l == lowering ? ms : others;

    internal static Model Build(ModelSpec spec, Func<Conv2D, ConvLowering, double>? timer, SimdLevel? simd = null, PlanCache? cache = null) =>
        Model.Create(spec, WeightInitializer.Initialize(spec, 1), new EngineOptions
        {
            Threads = 1, Simd = simd ?? Simd.Best, Plan = timer is null ? PlanMode.Fixed : PlanMode.Measure, PlanTimer = timer, PlanCache = cache,
        });

    private static Conv2D Conv(Model model) => (Conv2D)model.RunningLayer(0);
}
