using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;
using CnnService.Engine.Training;

namespace CnnService.Engine.Tests.Training;

/// <summary>The ops added for imported models run at inference only: training refuses them by name, up front; pooling's settings train.</summary>
public class InferenceOnlyOpsTests
{
    [Theory]
    [InlineData("""{ "type": "pad", "name": "x", "padding": 1 }""", "x, pad")]
    [InlineData("""{ "type": "channel_shuffle", "name": "x", "groups": 2 }""", "x, channel_shuffle")]
    [InlineData("""{ "type": "reshape", "name": "x", "shape": [4, 3, 3] }""", "x, reshape")]
    public void A_new_op_cannot_be_trained(string json, string layer)
    {
        var e = Assert.Throws<ModelFormatException>(() => Create(LayerJson.Parse(json)));

        Assert.Contains($"layer 0 ({layer})", e.Message);
        Assert.Contains("cannot be trained yet", e.Message);
    }

    [Theory]
    [InlineData("""{ "type": "maxpool2d", "kernel": 2, "stride": 2, "ceil_mode": true }""")]
    [InlineData("""{ "type": "avgpool2d", "kernel": 3, "padding": 1, "count_include_pad": true }""")]
    public void Pooling_with_ceil_mode_or_count_include_pad_trains(string json)
    {
        LayerSpec layer = LayerJson.Parse(json);

        TrainNetwork network = Create(layer);
        Assert.Equal([layer.Type, "flatten", "dense"], network.Layers.Select(l => l.Type));
    }

    /// <summary>The layer, then a dense layer to 3 classes: a trainable network but for the layer under test.</summary>
    private static TrainNetwork Create(LayerSpec layer)
    {
        ModelSpec spec = TestModels.Spec(new TensorShape(4, 3, 3), layer, new LayerSpec { Type = "flatten" }, new LayerSpec { Type = "dense", Name = "fc", Units = 3 });
        spec = new ModelSpec { Name = spec.Name, Input = spec.Input, Labels = ["a", "b", "c"], Layers = spec.Layers };
        return TrainNetwork.Create(spec, WeightInitializer.Initialize(spec, 1), maxBatch: 2, new EngineOptions { Threads = 1 });
    }
}
