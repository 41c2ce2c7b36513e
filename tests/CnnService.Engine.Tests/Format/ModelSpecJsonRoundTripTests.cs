using System.Text.Json.Nodes;
using CnnService.Engine.Format;
using static CnnService.Engine.Tests.Format.ModelJsonSamples;

namespace CnnService.Engine.Tests.Format;

public class ModelSpecJsonRoundTripTests
{
    /// <summary>Parse(ToJson(x)) must be x in content; comparing the canonical JSON covers every field.</summary>
    private static void AssertRoundTrips(string json)
    {
        var first = Parse(json);
        string written = ModelSpecJson.ToJson(first);
        var second = Parse(written);
        Assert.Equal(written, ModelSpecJson.ToJson(second));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(written), JsonNode.Parse(ModelSpecJson.ToJson(second))));
    }

    [Fact]
    public void Example_RoundTrips() => AssertRoundTrips(Mnist);

    [Fact]
    public void Example_RoundTrip_PreservesParsedValues()
    {
        var original = Parse(Mnist);
        var again = Parse(ModelSpecJson.ToJson(original));
        Assert.Equal(original.Name, again.Name);
        Assert.Equal(original.Description, again.Description);
        Assert.Equal(original.Labels, again.Labels);
        Assert.Equal(original.Input.Scale, again.Input.Scale);
        Assert.Equal(original.Input.Color, again.Input.Color);
        Assert.Equal(original.Layers.Select(l => (l.Type, l.Name, l.Filters, l.Units, l.Kernel, l.Stride, l.Padding)),
                     again.Layers.Select(l => (l.Type, l.Name, l.Filters, l.Units, l.Kernel, l.Stride, l.Padding)));
        Assert.True(JsonNode.DeepEquals(original.Metrics, again.Metrics));
    }

    [Fact]
    public void UnknownKeys_RoundTripAtEveryLevel()
    {
        var spec = Parse(ModelSpecJson.ToJson(Parse("""
            { "name": "m", "framework": "keras", "trained": { "epochs": 12, "lr": [0.1, 0.01] },
              "input": { "channels": 1, "height": 2, "width": 2, "layout": "nchw" },
              "layers": [ { "type": "relu", "inplace": true, "note": null } ] }
            """)));
        Assert.Equal("keras", (string?)spec.Extra["framework"]);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{ "epochs": 12, "lr": [0.1, 0.01] }"""), spec.Extra["trained"]));
        Assert.Equal("nchw", (string?)spec.Input.Extra["layout"]);
        Assert.True((bool)spec.Layers[0].Extra["inplace"]!);
        Assert.True(spec.Layers[0].Extra.ContainsKey("note"));
    }

    [Fact]
    public void NonDefaultLayerOptions_RoundTrip() => AssertRoundTrips(WithLayers("""
        { "type": "conv2d", "name": "c", "filters": 8, "kernel": [3, 1], "stride": [2, 1], "padding": [1, 0], "padding_mode": "reflect", "bias": false },
        { "type": "conv2d", "name": "d", "filters": 8, "kernel": 3, "padding": "same" },
        { "type": "maxpool2d", "kernel": 2, "padding": "valid" },
        { "type": "batchnorm", "name": "bn", "eps": 0.001, "momentum": 0.99 },
        { "type": "dropout", "rate": 0.25 },
        { "type": "lrn", "size": 3, "alpha": 0.0002, "beta": 0.5, "k": 2 },
        { "type": "global_avgpool" }, { "type": "flatten" }, { "type": "dense", "name": "fc", "units": 3, "bias": false }
        """));

    [Fact]
    public void NonDefaultLayerOptions_SurviveRoundTrip()
    {
        var conv = Parse(ModelSpecJson.ToJson(Parse(WithLayers("""
            { "type": "conv2d", "name": "c", "filters": 8, "kernel": [3, 1], "stride": [2, 1], "padding": [1, 0], "padding_mode": "reflect", "bias": false }
            """)))).Layers[0];
        Assert.Equal((new Pair(3, 1), new Pair(2, 1), Padding.Of(1, 0)), (conv.Kernel, conv.Stride, conv.Padding));
        Assert.Equal(("reflect", false), (conv.PaddingMode, conv.UseBias));
    }

    [Fact]
    public void PerChannelNormalisation_RoundTrips()
    {
        var input = Parse(ModelSpecJson.ToJson(Parse(WithInput("""
            { "channels": 3, "height": 4, "width": 4, "color": "rgb", "scale": 0.00392156862745098,
              "mean": [0.485, 0.456, 0.406], "std": 0.5 }
            """)))).Input;
        Assert.Equal([0.485f, 0.456f, 0.406f], input.Mean);
        Assert.Equal([0.5f, 0.5f, 0.5f], input.Std);
        Assert.Equal(1f / 255f, input.Scale, 1e-9f);
    }

    [Fact]
    public void ToJson_UsesTheFormatsSnakeCaseKeys()
    {
        string json = ModelSpecJson.ToJson(Parse(WithLayers("""{ "type": "conv2d", "name": "c", "filters": 8, "kernel": 3, "padding_mode": "reflect", "bias": false }""")));
        var layer = JsonNode.Parse(json)!["layers"]![0]!.AsObject();
        Assert.Equal(["type", "name", "filters", "kernel", "padding_mode", "bias"], layer.Select(p => p.Key));
    }

    [Fact]
    public void ToJson_LeavesOutUnwrittenDefaults()
    {
        var root = JsonNode.Parse(ModelSpecJson.ToJson(Parse(WithLayers("""{ "type": "batchnorm", "name": "bn" }"""))))!;
        Assert.Equal(["channels", "height", "width"], root["input"]!.AsObject().Select(p => p.Key));
        Assert.Equal(["type", "name"], root["layers"]![0]!.AsObject().Select(p => p.Key));
        Assert.False(root.AsObject().ContainsKey("description"));
        Assert.False(root.AsObject().ContainsKey("metrics"));
    }

    [Fact]
    public void ToJson_IsIndented() => Assert.Contains("\n  \"name\": \"mnist\"", ModelSpecJson.ToJson(Parse(Mnist)));

    [Fact]
    public void ToJson_KeepsNonAsciiLabelsReadable()
    {
        string json = ModelSpecJson.ToJson(Parse("""{ "name": "m", "labels": ["café", "<unk>"], "input": { "channels": 1, "height": 1, "width": 1 }, "layers": [ { "type": "relu" } ] }"""));
        Assert.Contains("\"café\"", json);
        Assert.Contains("\"<unk>\"", json);
    }

    [Fact]
    public void ToJson_ExtraNamedLikeAKnownKey_IsRejected()
    {
        var spec = Parse(Mnist);
        spec.Layers[0].Extra["filters"] = 3;
        Assert.Throws<ArgumentException>(() => ModelSpecJson.ToJson(spec));
    }

    [Fact]
    public void ToJson_DoesNotDetachExtraFromTheSpec()
    {
        // A JsonNode has one parent: writing must copy Extra values, not move them.
        var spec = Parse("""{ "name": "m", "x": { "y": 1 }, "input": { "channels": 1, "height": 1, "width": 1 }, "layers": [ { "type": "relu" } ] }""");
        string first = ModelSpecJson.ToJson(spec);
        Assert.Equal(first, ModelSpecJson.ToJson(spec));
        Assert.Equal(1, (int)spec.Extra["x"]!["y"]!);
    }
}
