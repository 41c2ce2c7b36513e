using System.Text.Json.Nodes;
using CnnService.Engine.Format;
using CnnService.Engine.Onnx;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;
using static CnnService.Engine.Tests.Onnx.OnnxExportLayerTests;

namespace CnnService.Engine.Tests.Onnx;

/// <summary>
/// The ops added for the ONNX importer (clip, hardsigmoid, hardswish, pad, channel_shuffle, reshape, the pooling
/// settings, and the graph ops add/sub/mul/div, concat, slice_channels), exported and run in ONNX Runtime. A test
/// whose op this build's engine does not have yet is skipped, saying which.
/// </summary>
public class OnnxExportOpsTests
{
    /// <summary>Settings as model.json text gives them (the engine reads parsed JSON numbers).</summary>
    private static JsonObject J(string json) => JsonNode.Parse(json)!.AsObject();

    private static LayerSpec Op(string type, JsonObject? extra = null, string? name = null, string[]? inputs = null, Padding? padding = null) =>
        new() { Type = type, Name = name, Inputs = inputs, Extra = extra ?? new JsonObject(), Padding = padding ?? Padding.Zero };

    private static ModelSpec Spec(TensorShape input, params LayerSpec[] layers) => TestModels.Spec(input, layers);

    private static ModelSpec Graph(TensorShape input, params LayerSpec[] layers)
    {
        ModelSpec spec = TestModels.Spec(input, layers);
        return new ModelSpec { Format = ModelSpec.GraphFormat, Name = spec.Name, Input = spec.Input, Labels = spec.Labels, Layers = spec.Layers };
    }

    [LayerTypeFact("clip")]
    public void Clip_with_both_bounds_only_a_max_or_only_a_min_matches()
    {
        AssertSameOutputs(Spec(new TensorShape(2, 3, 3), Op("clip", J("""{"min": -0.25, "max": 0.5}"""))));
        OnnxModel onlyMax = AssertSameOutputs(Spec(new TensorShape(2, 3, 3), Op("clip", J("""{"max": 0.5}"""))));
        Assert.Equal("", onlyMax.Graph.Nodes[0].Inputs[1]); // min left out
        AssertSameOutputs(Spec(new TensorShape(2, 3, 3), Op("clip", J("""{"min": -0.25}"""))));
    }

    [LayerTypeFact("hardsigmoid")]
    public void Hardsigmoid_keeps_its_alpha_and_beta()
    {
        LayerSpec layer = new() { Type = "hardsigmoid", Alpha = 0.3f, Beta = 0.4f };
        OnnxNode node = Assert.Single(AssertSameOutputs(Spec(new TensorShape(2, 3, 3), layer), scale: 4f).Graph.Nodes);
        Assert.Equal(0.3f, node.GetFloat("alpha", 0));
    }

    [LayerTypeFact("hardswish")]
    public void Hardswish_is_x_times_hardsigmoid_at_opset_13_and_hardswish_from_opset_14()
    {
        ModelSpec spec = Spec(new TensorShape(2, 3, 3), Op("hardswish"));
        // Imported back, the opset-13 form is a hardsigmoid and a two-input mul: only once the engine has mul.
        bool engineHasMul = ModelSpecJson.LayerTypes.Contains("mul");
        Assert.Equal(["HardSigmoid", "Mul"], AssertSameOutputs(spec, scale: 5f, opset: 13, reimport: engineHasMul).Graph.Nodes.Select(n => n.OpType));
        Assert.Equal(["HardSwish"], AssertSameOutputs(spec, scale: 5f, opset: 17).Graph.Nodes.Select(n => n.OpType));
    }

    [LayerTypeFact("pad")]
    public void Pad_constant_with_a_value_reflect_and_edge_match()
    {
        var sides = Padding.Sides(1, 2, 0, 1);
        AssertSameOutputs(Spec(new TensorShape(2, 4, 4), Op("pad", J("""{"value": 0.75}"""), padding: sides)));
        AssertSameOutputs(Spec(new TensorShape(2, 4, 4), Op("pad", J("""{"mode": "reflect"}"""), padding: sides)));
        AssertSameOutputs(Spec(new TensorShape(2, 4, 4), Op("pad", J("""{"mode": "edge"}"""), padding: sides)));
    }

    [LayerTypeFact("channel_shuffle")]
    public void Channel_shuffle_is_reshape_transpose_reshape()
    {
        OnnxModel onnx = AssertSameOutputs(Spec(new TensorShape(6, 2, 3), Op("channel_shuffle", J("""{"groups": 3}"""))));
        Assert.Equal(["Reshape", "Transpose", "Reshape"], onnx.Graph.Nodes.Select(n => n.OpType));
    }

    [LayerTypeFact("reshape")]
    public void Reshape_to_three_two_and_one_dims_per_item_matches()
    {
        AssertSameOutputs(Spec(new TensorShape(4, 3, 2), Op("reshape", J("""{"shape": [2, 6, 2]}""")), Op("sigmoid")));
        AssertSameOutputs(Spec(new TensorShape(4, 3, 2), Op("reshape", J("""{"shape": [8, 3]}""")), Op("softmax")));
        AssertSameOutputs(Spec(new TensorShape(4, 3, 2), Op("reshape", J("""{"shape": [24]}""")),
            new LayerSpec { Type = "dense", Name = "fc", Units = 3 }));
    }

    [PoolModesFact]
    public void Avgpool_counting_padding_and_maxpool_in_ceil_mode_match()
    {
        var avg = new LayerSpec { Type = "avgpool2d", Kernel = Pair.Square(3), Stride = Pair.Square(2), Padding = Padding.Of(1, 1), Extra = J("""{"count_include_pad": true}""") };
        var max = new LayerSpec { Type = "maxpool2d", Kernel = Pair.Square(2), Extra = J("""{"ceil_mode": true}""") };
        ModelSpec spec = Spec(new TensorShape(2, 7, 7), avg, max);
        OnnxModel onnx = AssertSameOutputs(spec);
        Assert.Equal(1L, onnx.Graph.Nodes[0].GetInt("count_include_pad", 0));
        Assert.Equal(1L, onnx.Graph.Nodes[1].GetInt("ceil_mode", 0));
    }

    [ConvGroupsFact]
    public void A_grouped_dilated_conv_exports_group_and_dilations_and_depthwise_too()
    {
        LayerSpec grouped = new() { Type = "conv2d", Name = "g", Filters = 6, Kernel = Pair.Square(3), Padding = Padding.Sides(2, 1, 0, 2), Extra = J("""{"groups": 3, "dilation": [2, 1]}""") };
        LayerSpec depthwise = new() { Type = "conv2d", Name = "d", Filters = 6, Kernel = Pair.Square(3), Padding = Padding.Same, Extra = J("""{"groups": 6}""") };
        OnnxModel onnx = AssertSameOutputs(Spec(new TensorShape(3, 9, 8), grouped, depthwise));
        Assert.Equal(3L, onnx.Graph.Nodes[0].GetInt("group", 1));
        Assert.Equal([2L, 1], onnx.Graph.Nodes[0].GetInts("dilations")!);
        Assert.Equal(6L, onnx.Graph.Nodes[1].GetInt("group", 1));
    }

    [LayerTypeFact("add", "sub", "mul", "div", "concat", "slice_channels")]
    public void Graph_ops_with_two_inputs_broadcasting_and_constants_export_as_a_graph()
    {
        ModelSpec spec = Graph(new TensorShape(4, 3, 3),
            new LayerSpec { Type = "conv2d", Name = "a", Filters = 4, Kernel = Pair.Square(1) },
            Op("slice_channels", J("""{"start": 1, "end": 3}"""), "s", ["input"]),
            Op("global_avgpool", name: "g", inputs: ["a"]),
            Op("mul", name: "m", inputs: ["a", "g"]),
            Op("sub", J("""{"constant_shape": [4, 1, 1], "constant_first": true}"""), "c", ["m"]),
            Op("add", name: "sum", inputs: ["c", "input"]),
            Op("div", J("""{"constant_shape": [1, 3, 3]}"""), "d", ["sum"]),
            Op("concat", name: "cat", inputs: ["d", "s"]));
        OnnxModel onnx = AssertSameOutputs(spec, reimport: true);
        Assert.Contains(onnx.Graph.Nodes, n => n.OpType == "Concat" && n.Inputs.Count == 2);
    }
}

/// <summary>A fact that runs only when this build's engine knows every named layer type; otherwise skipped, naming them.</summary>
public sealed class LayerTypeFactAttribute : FactAttribute
{
    public LayerTypeFactAttribute(params string[] types)
    {
        string[] missing = types.Where(t => !ModelSpecJson.LayerTypes.Contains(t)).ToArray();
        if (missing.Length > 0) Skip = $"this engine has no {string.Join(", ", missing)} layer yet";
    }
}

/// <summary>A fact that runs only when this build's conv2d reads "groups" and "dilation"; otherwise skipped, saying so.</summary>
public sealed class ConvGroupsFactAttribute : FactAttribute
{
    public ConvGroupsFactAttribute()
    {
        var conv = new LayerSpec
        {
            Type = "conv2d", Name = "c", Filters = 4, Kernel = Pair.Square(3),
            Extra = JsonNode.Parse("""{"groups": 2, "dilation": 2}""")!.AsObject(),
        };
        ModelSpec spec = TestModels.Spec(new TensorShape(4, 6, 6), conv);
        bool supported;
        try
        {
            Model model = Model.Create(spec, WeightInitializer.Initialize(spec, 1));
            supported = model.OutputShape == new TensorShape(4, 2, 2) && WeightInitializer.Initialize(spec, 1).ShapeOf("c.weight")[1] == 2;
        }
        catch (ModelFormatException)
        {
            supported = false;
        }

        if (!supported) Skip = "this engine's conv2d does not read \"groups\" and \"dilation\" yet";
    }
}

/// <summary>A fact that runs only when this build's pooling reads "count_include_pad" and "ceil_mode"; otherwise skipped, saying so.</summary>
public sealed class PoolModesFactAttribute : FactAttribute
{
    public PoolModesFactAttribute()
    {
        // On a 5x5 plane of ones, a corner window counting its padding averages 4/9, not 1; ceil mode keeps a third, partial window.
        var avg = new LayerSpec { Type = "avgpool2d", Kernel = Pair.Square(3), Stride = Pair.Square(2), Padding = Padding.Of(1, 1), Extra = JsonNode.Parse("""{"count_include_pad": true}""")!.AsObject() };
        var max = new LayerSpec { Type = "maxpool2d", Kernel = Pair.Square(2), Extra = JsonNode.Parse("""{"ceil_mode": true}""")!.AsObject() };
        Model counting = Model.Create(TestModels.Spec(new TensorShape(1, 5, 5), avg), WeightSet.FromTensors([]));
        var output = new float[counting.OutputShape.Size];
        counting.Forward(Enumerable.Repeat(1f, 25).ToArray(), output, 1);
        Model ceil = Model.Create(TestModels.Spec(new TensorShape(1, 5, 5), max), WeightSet.FromTensors([]));
        if (MathF.Abs(output[0] - 4f / 9f) > 1e-6f || ceil.OutputShape != new TensorShape(1, 3, 3))
            Skip = "this engine's pooling does not read \"count_include_pad\" and \"ceil_mode\" yet";
    }
}
