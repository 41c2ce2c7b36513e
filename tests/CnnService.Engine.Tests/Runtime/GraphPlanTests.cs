using CnnService.Engine.Format;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Runtime;

/// <summary>Where <see cref="GraphPlan"/> puts tensors: what runs, what runs in place, how the arena is reused.</summary>
public class GraphPlanTests
{
    private const long Align = 16;

    [Theory]
    [InlineData(new[] { 10, 10, 11, 12, 13, 14, 15, 16, 17, 18, 4 })]   // widening: first fit alone keeps climbing
    [InlineData(new[] { 16, 8, 32, 4, 64, 2, 64, 8, 4 })]
    [InlineData(new[] { 11, 9, 10, 12, 7, 12, 3 })]
    public void A_long_chain_needs_at_most_its_two_largest_activations(int[] channels)
    {
        // 1x1 convolutions on 8x8 maps: activation i is 64 * channels[i] floats per image.
        var layers = channels.Select((c, i) => TestGraphs.Conv($"c{i}", c, 1, 0)).ToArray();
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(3, 8, 8), layers), Simd.Best, out _);
        GraphPlan plan = PlanOf(model);

        // The last activation goes to the caller's buffer; the others share the arena.
        long[] sizes = channels[..^1].Select(c => 64L * c).OrderDescending().ToArray();
        Assert.InRange(plan.ArenaFloatsPerImage, 1, sizes[0] + sizes[1] + 2 * Align);
    }

    [Fact]
    public void A_relu_over_a_tensor_read_later_writes_a_buffer_of_its_own()
    {
        Model model = TestModels.Build(TestGraphs.Graph(new TensorShape(2, 6, 6),
            TestGraphs.Conv("t", 4, 3, 1), TestGraphs.Layer("relu", "r", "t"), TestGraphs.Layer("add", "out", "r", "t")), Simd.Best, out _);
        GraphPlan.Step relu = PlanOf(model).Steps[1];

        Assert.IsType<Activation>(relu.Layer);
        Assert.NotEqual(relu.Inputs[0], relu.Output);
    }

    [Fact]
    public void A_relu_that_is_its_inputs_last_reader_runs_in_place()
    {
        Model model = TestModels.Build(TestGraphs.Graph(new TensorShape(2, 6, 6),
            TestGraphs.Conv("t", 4, 3, 1), TestGraphs.Layer("sigmoid", "g", "t"), TestGraphs.Layer("relu", "r", "t"), TestGraphs.Layer("add", "out", "r", "g")), Simd.Best, out _);
        GraphPlan.Step relu = PlanOf(model).Steps[2];

        Assert.Equal("relu", relu.Layer.Type);
        Assert.Equal(relu.Inputs[0], relu.Output);
    }

    [Fact]
    public void A_residual_add_writes_over_its_first_input_and_the_last_step_writes_the_callers_output()
    {
        GraphPlan plan = PlanOf(TestModels.Build(TestGraphs.Residual(), Simd.Best, out _));
        GraphPlan.Step add = plan.Steps.Single(s => s.Layer.Type == "add");

        Assert.Equal(add.Inputs[0], add.Output);
        Assert.Equal(GraphPlan.OutputBuffer, plan.Steps[^1].Output);
        Assert.Equal(GraphPlan.OutputBuffer, plan.ResultBuffer);
    }

    [Fact]
    public void Fused_relus_and_views_run_nothing()
    {
        ModelSpec spec = TestModels.Spec(new TensorShape(1, 6, 6),
            TestGraphs.Conv("c", 4, 3, 0), new LayerSpec { Type = "relu" }, new LayerSpec { Type = "dropout" }, new LayerSpec { Type = "flatten" },
            new LayerSpec { Type = "dense", Name = "fc", Units = 3 });
        GraphPlan plan = PlanOf(TestModels.Build(spec, Simd.Best, out _));

        Assert.Equal(["conv2d", "dense"], plan.Steps.Select(s => s.Layer.Type));
        Assert.Equal(plan.Steps[0].Output, plan.Steps[1].Inputs[0]);
    }

    [Fact]
    public void The_model_input_is_never_written()
    {
        // The ReLU is the input's last reader, but the input is the caller's.
        GraphPlan plan = PlanOf(TestModels.Build(TestModels.Spec(new TensorShape(2, 3, 3), new LayerSpec { Type = "relu" }, new LayerSpec { Type = "sigmoid" }), Simd.Best, out _));

        Assert.Equal(GraphPlan.InputBuffer, plan.Steps[0].Inputs[0]);
        Assert.NotEqual(GraphPlan.InputBuffer, plan.Steps[0].Output);
    }

    [Fact]
    public void A_concat_reads_every_branch_in_order_from_live_buffers()
    {
        Model model = TestModels.Build(TestGraphs.Inception(), Simd.Best, out _);
        GraphPlan plan = PlanOf(model);
        GraphPlan.Step cat = plan.Steps.Single(s => s.Layer.Type == "concat");

        Assert.Equal(4, cat.Inputs.Length);
        Assert.Equal(4, cat.Inputs.Distinct().Count());
        Assert.Equal(4, plan.MaxInputs);
    }

    [Fact]
    public void For_one_image_a_concat_runs_nothing_and_its_parts_are_written_in_order_into_its_output()
    {
        Model model = TestModels.Build(TestGraphs.Fire(), Simd.Best, out _);
        GraphPlan plan = PlanOf(model, elideConcats: true);
        GraphPlan.Step Writer(string name) => plan.Steps.Single(s => s.Layer.Name == name);
        const long Plane = 13 * 13;

        Assert.DoesNotContain(plan.Steps, s => s.Layer.Type == "concat");
        // j = [e3, e1]: one buffer, the 3x3 expansion first although it runs second.
        Assert.Equal(Writer("e3").Output, Writer("e1").Output);
        Assert.Equal(0, Writer("e3").OutputOffset);
        Assert.Equal(32 * Plane, Writer("e1").OutputOffset);
        // out = [f, k] with k = [q, dw]: a join inside a join, and the last join the caller's output.
        Assert.All(new[] { "q", "dw", "f" }, name => Assert.Equal(GraphPlan.OutputBuffer, Writer(name).Output));
        Assert.Equal([8 * Plane, 72 * Plane, 0], new[] { "q", "dw", "f" }.Select(name => Writer(name).OutputOffset));
        // What the fire graph is for: every kind of part written in place (the AVX-512 tiles, Winograd's 3x3 expansion; AVX2's
        // plan keeps 1x1 layers on the GEMM, and reads the input of f, 8 filters 5x5 on a 17-wide padded map, in place).
        string[] lowerings = Simd.Best switch
        {
            SimdLevel.Vector512 => ["pointwise", "winograd", "im2col"],
            SimdLevel.Vector256 => ["im2col", "winograd", "implicit-gemm"],
            _ => ["im2col", "im2col", "im2col"],
        };
        Assert.Equal(lowerings, new[] { "e1", "e3", "f" }.Select(name => ((Conv2D)Writer(name).Layer).Lowering));
        Assert.IsType<MaxPool2D>(Writer("q").Layer);
        Assert.IsType<DepthwiseConv2D>(Writer("dw").Layer);
        // The layers reading a join read its parts where they were written.
        Assert.Equal(Writer("e3").Output, Writer("q").Inputs[0]);
        Assert.Equal(0, Writer("q").InputOffsets[0]);
    }

    [Fact]
    public void For_one_image_a_concat_whose_part_is_read_after_it_copies_its_parts()
    {
        Model model = TestModels.Build(PartReadLater(), Simd.Best, out _);

        Assert.Contains(PlanOf(model, elideConcats: true).Steps, s => s.Layer.Type == "concat");
    }

    [Theory]
    [InlineData("t", "t")]
    [InlineData("input", "t")]
    public void For_one_image_a_concat_of_one_tensor_twice_or_of_the_models_input_copies_its_parts(string first, string second)
    {
        Model model = TestModels.Build(TwoParts(first, second), Simd.Best, out _);

        Assert.Contains(PlanOf(model, elideConcats: true).Steps, s => s.Layer.Type == "concat");
    }

    [Fact]
    public void A_plan_for_every_batch_copies_every_concat()
    {
        Model model = TestModels.Build(TestGraphs.Fire(), Simd.Best, out _);

        Assert.Equal(3, PlanOf(model).Steps.Count(s => s.Layer.Type == "concat"));
        Assert.All(PlanOf(model).Steps, s => Assert.Equal(0, s.OutputOffset));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Timing_layers_times_the_concats_a_pass_of_that_batch_runs_and_no_others(int batch)
    {
        Model model = TestModels.Build(TestGraphs.Fire(), Simd.Best, out _);
        int[] concats = Enumerable.Range(0, model.Layers.Count).Where(i => model.Layers[i] is Concat).ToArray();

        double[] seconds = model.TimeLayers(TestModels.Random(batch * model.InputShape.Size, seed: 3), batch, repeats: 2);

        Assert.Equal(3, concats.Length);
        Assert.All(concats, i => Assert.Equal(batch > 1, model.RunsLayer(i, batch)));
        Assert.All(concats, i => Assert.Equal(batch > 1, seconds[i] > 0));
    }

    /// <summary>c = [t, u] and a ReLU over c, then t read again: written into c, t would be read after the ReLU ran over it in place.</summary>
    internal static ModelSpec PartReadLater() => TestGraphs.Graph(new TensorShape(2, 6, 6),
        TestGraphs.Conv("t", 4, 3, 1),
        TestGraphs.Conv("u", 4, 3, 1, "input"),
        TestGraphs.Layer("concat", "c", "t", "u"),
        TestGraphs.Layer("relu", "r", "c"),
        TestGraphs.Conv("v", 8, 1, 0, "t"),
        TestGraphs.Layer("add", "out", "r", "v"));

    /// <summary>A join of two of: t (a 3x3 convolution of the input, 2 channels) and the input itself.</summary>
    internal static ModelSpec TwoParts(string first, string second) => TestGraphs.Graph(new TensorShape(2, 6, 6),
        TestGraphs.Conv("t", 2, 3, 1),
        TestGraphs.Layer("concat", "c", first, second),
        TestGraphs.Conv("out", 3, 1, 0));

    /// <summary>The plan the model runs, rebuilt from what the model shows: its layers, their inputs, and which are fused away.</summary>
    internal static GraphPlan PlanOf(Model model, bool elideConcats = false)
    {
        int n = model.Layers.Count;
        int[][] inputs = Enumerable.Range(0, n).Select(i => model.InputsOf(i).Select(t => t + 1).ToArray()).ToArray();
        return GraphPlan.Create(model.Layers, inputs, Enumerable.Range(0, n).Select(model.IsFusedAway).ToArray(), elideConcats: elideConcats);
    }
}
