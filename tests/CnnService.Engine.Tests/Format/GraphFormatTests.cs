using System.Text.Json.Nodes;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using static CnnService.Engine.Tests.Format.ModelJsonSamples;

namespace CnnService.Engine.Tests.Format;

/// <summary>model.json format 2: layers that name their inputs.</summary>
public class GraphFormatTests
{
    private static string Graph(string layers, int format = 2) =>
        $$"""{ "format": {{format}}, "name": "g", "input": { "channels": 3, "height": 8, "width": 8 }, "labels": [], "layers": [ {{layers}} ] }""";

    private const string Residual = """
        { "type": "conv2d", "name": "c1", "filters": 3, "kernel": 3, "padding": 1 },
        { "type": "relu", "name": "r1" },
        { "type": "conv2d", "name": "c2", "filters": 3, "kernel": 3, "padding": 1 },
        { "type": "add", "name": "sum", "inputs": ["c2", "input"] },
        { "type": "relu", "name": "out" }
        """;

    [Fact]
    public void A_residual_graph_parses_with_its_inputs()
    {
        ModelSpec spec = Parse(Graph(Residual));

        Assert.Equal(2, spec.Format);
        Assert.Equal(["c2", "input"], spec.Layers[3].Inputs!);
        Assert.Null(spec.Layers[4].Inputs);
    }

    [Fact]
    public void Inputs_without_format_2_are_refused()
    {
        AssertRejected(WithLayers("""{ "type": "relu", "name": "r" }, { "type": "add", "name": "a", "inputs": ["r", "input"] }"""),
            "layer \"a\" has \"inputs\", which needs \"format\": 2");
    }

    [Fact]
    public void Format_3_is_refused_as_written_by_a_newer_build()
    {
        AssertRejected(Graph("""{ "type": "relu" }""", format: 3), "\"format\": 3 was written by a newer CnnService", "formats 1 to 2");
    }

    [Theory]
    [InlineData("later")]
    [InlineData("nowhere")]
    public void An_input_that_is_not_an_earlier_layer_is_refused(string name)
    {
        AssertRejected(Graph($$"""{ "type": "relu", "name": "first", "inputs": ["{{name}}"] }, { "type": "relu", "name": "later" }"""),
            "layer 0 (first, relu)", $"input \"{name}\" is not the name of an earlier layer or \"input\"");
    }

    [Fact]
    public void A_layer_may_not_be_named_input()
    {
        AssertRejected(Graph("""{ "type": "relu", "name": "input" }"""), "the name \"input\" is kept for the model's input");
    }

    [Fact]
    public void A_dead_branch_is_refused()
    {
        // "side" is computed and never read: a mistake in the file, not something to run for nothing.
        ModelSpec spec = Parse(Graph("""
            { "type": "relu", "name": "side" },
            { "type": "sigmoid", "name": "main", "inputs": ["input"] }
            """));

        var e = Assert.Throws<ModelFormatException>(() => Model.Create(spec, WeightSet.FromTensors([])));
        Assert.Contains("layer 0 (side, relu): its output is never used", e.Message);
    }

    [Fact]
    public void A_format_2_graph_round_trips_unchanged()
    {
        string json = Graph(Residual + """
            ,
            { "type": "mul", "name": "scale", "constant_shape": [3, 1, 1], "constant_first": true },
            { "type": "slice_channels", "name": "s", "inputs": ["scale"], "start": 1, "end": 3 },
            { "type": "concat", "name": "cat", "inputs": ["s", "sum", "input"] }
            """);

        string written = ModelSpecJson.ToJson(Parse(json));

        ModelSpec spec = Parse(written);
        Assert.Equal(new TensorShape(8, 8, 8), Model.Create(spec, WeightInitializer.Initialize(spec, 1)).OutputShape);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(json), JsonNode.Parse(written)), written);
        Assert.Equal(written, ModelSpecJson.ToJson(Parse(written)));
    }

    [Fact]
    public void A_chain_still_writes_no_format()
    {
        string written = ModelSpecJson.ToJson(Parse(Mnist));

        Assert.False(JsonNode.Parse(written)!.AsObject().ContainsKey("format"));
    }

    [Fact]
    public void A_spec_built_in_code_with_inputs_is_written_as_format_2()
    {
        ModelSpec chain = Parse(WithLayers("""{ "type": "relu", "name": "r" }"""));
        var graph = new ModelSpec { Name = "g", Input = chain.Input, Labels = [], Layers = [new LayerSpec { Type = "relu", Inputs = ["input"] }] };

        Assert.Equal(2, (int)JsonNode.Parse(ModelSpecJson.ToJson(graph))!["format"]!);
    }

    [Fact]
    public void An_arithmetic_op_with_a_constant_needs_a_name()
    {
        AssertLayerRejected("""{ "type": "add", "constant_shape": [1, 1, 1] }""", "\"name\" is required for add with a constant");
    }

    [Fact]
    public void An_arithmetic_op_of_two_inputs_needs_no_name()
    {
        ModelSpec spec = Parse(Graph("""{ "type": "relu", "name": "r" }, { "type": "mul", "inputs": ["r", "input"] }"""));

        Assert.Null(spec.Layers[1].Name);
    }

    [Theory]
    [InlineData("add")]
    [InlineData("sub")]
    [InlineData("mul")]
    [InlineData("div")]
    [InlineData("concat")]
    [InlineData("slice_channels")]
    public void The_graph_ops_are_known_layer_types(string type)
    {
        Assert.Contains(type, ModelSpecJson.LayerTypes);
        Assert.Equal(type, SingleLayer($$"""{ "type": "{{type}}", "name": "x" }""").Type);
    }
}
