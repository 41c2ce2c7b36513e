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

    /// <summary>The plan the model runs, rebuilt from what the model shows: its layers, their inputs, and which are fused away.</summary>
    internal static GraphPlan PlanOf(Model model)
    {
        int n = model.Layers.Count;
        int[][] inputs = Enumerable.Range(0, n).Select(i => model.InputsOf(i).Select(t => t + 1).ToArray()).ToArray();
        return GraphPlan.Create(model.Layers, inputs, Enumerable.Range(0, n).Select(model.IsFusedAway).ToArray());
    }
}
