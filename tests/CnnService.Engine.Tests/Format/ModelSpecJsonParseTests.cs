using System.Text.Json.Nodes;
using CnnService.Engine.Format;
using static CnnService.Engine.Tests.Format.ModelJsonSamples;

namespace CnnService.Engine.Tests.Format;

public class ModelSpecJsonParseTests
{
    [Fact]
    public void Example_ParsesTopLevelFields()
    {
        var spec = Parse(Mnist);
        Assert.Equal("mnist", spec.Name);
        Assert.Equal("Keras MNIST CNN", spec.Description);
        Assert.Equal(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], spec.Labels);
        Assert.Equal("mnist", (string?)spec.Metrics!["dataset"]);
        Assert.Equal(0.99, (double)spec.Metrics["test_accuracy"]!);
        Assert.Empty(spec.Extra);
    }

    [Fact]
    public void Example_ParsesInput()
    {
        var input = Parse(Mnist).Input;
        Assert.Equal((1, 28, 28), (input.Channels, input.Height, input.Width));
        Assert.Equal(ColorMode.Grayscale, input.Color);
        Assert.Equal(1f / 255f, input.Scale, 1e-9f);
        Assert.Equal([0f], input.Mean);
        Assert.Equal([1f], input.Std);
    }

    [Fact]
    public void Example_ParsesLayersInOrder()
    {
        var layers = Parse(Mnist).Layers;
        Assert.Equal(["conv2d", "relu", "maxpool2d", "flatten", "dense", "relu", "dense", "softmax"], layers.Select(l => l.Type));
        var conv = layers[0];
        Assert.Equal("conv1", conv.Name);
        Assert.Equal(32, conv.Filters);
        Assert.Equal(new Pair(3, 3), conv.Kernel);
        Assert.Equal(new Pair(1, 1), conv.Stride);
        Assert.Equal(Padding.Of(0, 0), conv.Padding);
        Assert.Equal("zeros", conv.PaddingMode);
        Assert.True(conv.UseBias);
        Assert.Equal(new Pair(2, 2), layers[2].Stride);
        Assert.Equal(("fc1", 100), (layers[4].Name, layers[4].Units));
        Assert.Equal(("fc2", 10), (layers[6].Name, layers[6].Units));
        Assert.Null(layers[1].Name);
    }

    [Fact]
    public void Kernel_Integer_MeansSquare() =>
        Assert.Equal(new Pair(5, 5), SingleLayer("""{ "type": "conv2d", "name": "c", "filters": 4, "kernel": 5 }""").Kernel);

    [Fact]
    public void Kernel_Pair_KeepsHeightAndWidth() =>
        Assert.Equal(new Pair(1, 7), SingleLayer("""{ "type": "conv2d", "name": "c", "filters": 4, "kernel": [1, 7] }""").Kernel);

    [Fact]
    public void Stride_Integer_MeansSquare() =>
        Assert.Equal(new Pair(2, 2), SingleLayer("""{ "type": "maxpool2d", "kernel": 3, "stride": 2 }""").Stride);

    [Fact]
    public void Stride_Absent_IsNullSoTheLayerPicksItsDefault() =>
        Assert.Null(SingleLayer("""{ "type": "maxpool2d", "kernel": 2 }""").Stride);

    [Fact]
    public void Padding_Integer_IsExplicitOnBothAxes() =>
        Assert.Equal(Padding.Of(2, 2), SingleLayer("""{ "type": "conv2d", "name": "c", "filters": 4, "kernel": 5, "padding": 2 }""").Padding);

    [Fact]
    public void Padding_Pair_IsExplicitPerAxis() =>
        Assert.Equal(Padding.Of(1, 0), SingleLayer("""{ "type": "conv2d", "name": "c", "filters": 4, "kernel": [3, 1], "padding": [1, 0] }""").Padding);

    [Fact]
    public void Padding_Same_ParsesAsSame() =>
        Assert.Equal(Padding.Same, SingleLayer("""{ "type": "conv2d", "name": "c", "filters": 4, "kernel": 3, "padding": "same" }""").Padding);

    [Fact]
    public void Padding_Valid_ParsesAsValid() =>
        Assert.Equal(Padding.Valid, SingleLayer("""{ "type": "conv2d", "name": "c", "filters": 4, "kernel": 3, "padding": "valid" }""").Padding);

    [Fact]
    public void Padding_Absent_IsZero() =>
        Assert.Equal(Padding.Zero, SingleLayer("""{ "type": "conv2d", "name": "c", "filters": 4, "kernel": 3 }""").Padding);

    [Fact]
    public void Padding_SameOnPoolingWithStrideOne_IsAccepted() =>
        Assert.Equal(Padding.Same, SingleLayer("""{ "type": "maxpool2d", "kernel": 3, "stride": 1, "padding": "same" }""").Padding);

    [Fact]
    public void Mean_SingleNumber_IsBroadcastToEveryChannel() =>
        Assert.Equal([0.5f, 0.5f, 0.5f], Parse(WithInput("""{ "channels": 3, "height": 4, "width": 4, "mean": 0.5 }""")).Input.Mean);

    [Fact]
    public void Std_SingleElementArray_IsBroadcastToEveryChannel() =>
        Assert.Equal([0.25f, 0.25f, 0.25f], Parse(WithInput("""{ "channels": 3, "height": 4, "width": 4, "std": [0.25] }""")).Input.Std);

    [Fact]
    public void MeanAndStd_PerChannelArrays_AreKept()
    {
        var input = Parse(WithInput("""
            { "channels": 3, "height": 4, "width": 4, "color": "rgb",
              "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225] }
            """)).Input;
        Assert.Equal([0.485f, 0.456f, 0.406f], input.Mean);
        Assert.Equal([0.229f, 0.224f, 0.225f], input.Std);
        Assert.Equal(ColorMode.Rgb, input.Color);
    }

    [Fact]
    public void Input_OptionalKeysAbsent_GetDefaults()
    {
        var input = Parse(WithInput("""{ "channels": 2, "height": 4, "width": 5 }""")).Input;
        Assert.Equal(ColorMode.None, input.Color);
        Assert.Equal(1f, input.Scale);
        Assert.Equal([0f, 0f], input.Mean);
        Assert.Equal([1f, 1f], input.Std);
    }

    [Fact]
    public void Labels_Absent_IsEmptyList() => Assert.Empty(Parse(WithLayers("""{ "type": "relu" }""")).Labels);

    [Fact]
    public void Description_AndMetrics_Absent_AreNull()
    {
        var spec = Parse(WithLayers("""{ "type": "relu" }"""));
        Assert.Null(spec.Description);
        Assert.Null(spec.Metrics);
    }

    [Fact]
    public void LayerOptions_AreParsed()
    {
        var layers = Parse(WithLayers("""
            { "type": "conv2d", "name": "c", "filters": 8, "kernel": 3, "bias": false, "padding": 1, "padding_mode": "reflect" },
            { "type": "batchnorm", "name": "bn", "eps": 0.001, "momentum": 0.01 },
            { "type": "dropout", "rate": 0.5 },
            { "type": "lrn", "size": 3, "alpha": 0.0002, "beta": 0.5, "k": 2 }
            """)).Layers;
        Assert.False(layers[0].UseBias);
        Assert.Equal("reflect", layers[0].PaddingMode);
        Assert.Equal((0.001f, 0.01f), (layers[1].Eps, layers[1].Momentum));
        Assert.Equal(0.5f, layers[2].Rate);
        Assert.Equal((3, 0.0002f, 0.5f, 2f), (layers[3].Size, layers[3].Alpha, layers[3].Beta, layers[3].K));
    }

    [Fact]
    public void LayerOptions_Absent_KeepDtoDefaults()
    {
        var bn = SingleLayer("""{ "type": "batchnorm", "name": "bn" }""");
        var defaults = new LayerSpec { Type = "batchnorm" };
        Assert.Equal((defaults.Eps, defaults.Momentum, defaults.UseBias), (bn.Eps, bn.Momentum, bn.UseBias));
    }

    [Fact]
    public void KnownKeySetToNull_IsTreatedAsAbsent()
    {
        var layer = SingleLayer("""{ "type": "relu", "name": null, "kernel": null }""");
        Assert.Null(layer.Name);
        Assert.Null(layer.Kernel);
        Assert.Empty(layer.Extra);
    }

    [Fact]
    public void UnknownKeys_AreKeptInExtraAtEveryLevel()
    {
        var spec = Parse("""
            { "name": "m", "framework": "keras", "trained": { "epochs": 12 },
              "input": { "channels": 1, "height": 2, "width": 2, "layout": "nchw" },
              "layers": [ { "type": "relu", "inplace": true, "note": null } ] }
            """);
        Assert.Equal("keras", (string?)spec.Extra["framework"]);
        Assert.Equal(12, (int)spec.Extra["trained"]!["epochs"]!);
        Assert.Equal("nchw", (string?)spec.Input.Extra["layout"]);
        Assert.True((bool)spec.Layers[0].Extra["inplace"]!);
        Assert.True(spec.Layers[0].Extra.ContainsKey("note"));
    }

    [Fact]
    public void Extra_IsDetachedFromTheParsedDocument()
    {
        // Unknown values must stay readable after Parse returns (the JsonDocument is disposed by then).
        var spec = Parse("""{ "name": "m", "x": [1, {"y": 2}], "input": { "channels": 1, "height": 1, "width": 1 }, "layers": [ { "type": "relu" } ] }""");
        Assert.Equal(2, (int)spec.Extra["x"]![1]!["y"]!);
        Assert.Equal("""[1,{"y":2}]""", spec.Extra["x"]!.ToJsonString());
    }

    [Fact]
    public void Metrics_IsKeptAsJsonObject()
    {
        var spec = Parse(Mnist);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{ "dataset": "mnist", "test_accuracy": 0.99 }"""), spec.Metrics));
    }
}
