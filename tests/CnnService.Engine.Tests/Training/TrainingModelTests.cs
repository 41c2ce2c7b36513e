using CnnService.Engine.Data;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;
using CnnService.Engine.Training;

namespace CnnService.Engine.Tests.Training;

/// <summary>The specs a run trains (shared by cnn train and the service's jobs), and the check that rejects one before training.</summary>
public class TrainingModelTests
{
    private const string SmallLayers = """
        [ { "type": "conv2d", "name": "conv1", "filters": 4, "kernel": 3, "stride": 2 }, { "type": "relu" },
          { "type": "flatten" }, { "type": "dense", "name": "fc1", "units": 10 }, { "type": "softmax" } ]
        """;

    private static readonly IDataset Digits = DatasetSubset.First(DatasetCatalog.Open(Fixtures.MnistSmall, DatasetSplit.Test), 10);

    [Fact]
    public void A_layer_list_parses_with_the_model_json_rules()
    {
        IReadOnlyList<LayerSpec> layers = ModelSpecJson.ParseLayers(SmallLayers, "arch");

        Assert.Equal(["conv2d", "relu", "flatten", "dense", "softmax"], layers.Select(l => l.Type));
    }

    [Fact]
    public void A_bad_layer_list_fails_with_a_message_naming_the_field_and_the_layer()
    {
        var e = Assert.Throws<ModelFormatException>(() => ModelSpecJson.ParseLayers("""[ { "type": "relu" }, { "type": "warp" } ]""", "arch"));

        Assert.StartsWith("arch: layer 1", e.Message);
    }

    [Fact]
    public void A_layer_list_takes_the_dataset_images_as_input_and_its_classes_as_labels()
    {
        ModelSpec spec = TrainingModel.FromLayers(ModelSpecJson.ParseLayers(SmallLayers, "arch"), "tiny", Digits);

        Assert.Equal(("tiny", 1, 28, 28, ColorMode.Grayscale), (spec.Name, spec.Input.Channels, spec.Input.Height, spec.Input.Width, spec.Input.Color));
        Assert.Equal(1f / 255, spec.Input.Scale);
        Assert.Equal(Digits.Classes, spec.Labels);
        TrainingModel.CheckTrainable(spec, Digits);
    }

    [Fact]
    public void A_network_for_other_images_is_not_trainable_on_the_dataset()
    {
        ModelSpec spec = TrainingModel.For(Architectures.TinyVgg(), "t", Digits);

        var e = Assert.Throws<ModelFormatException>(() => TrainingModel.CheckTrainable(spec, Digits));
        Assert.Contains("[3,64,64]", e.Message);
    }

    [Fact]
    public void A_network_whose_outputs_are_not_the_classes_is_not_trainable()
    {
        string fiveOutputs = SmallLayers.Replace("\"units\": 10", "\"units\": 5", StringComparison.Ordinal);
        ModelSpec spec = TrainingModel.FromLayers(ModelSpecJson.ParseLayers(fiveOutputs, "arch"), "t", Digits);

        var e = Assert.Throws<ModelFormatException>(() => TrainingModel.CheckTrainable(spec, Digits));
        Assert.Contains("10 labels", e.Message);
    }

    [Theory]
    [InlineData("\"groups\": 2")]
    [InlineData("\"groups\": 4")]
    [InlineData("\"dilation\": 2")]
    public void A_grouped_or_dilated_convolution_is_inference_only(string setting)
    {
        const string Layers = """
            [ { "type": "conv2d", "name": "conv1", "filters": 4, "kernel": 3, "stride": 2 }, { "type": "relu" },
              { "type": "conv2d", "name": "conv2", "filters": 4, "kernel": 3 SETTING }, { "type": "relu" },
              { "type": "flatten" }, { "type": "dense", "name": "fc1", "units": 10 }, { "type": "softmax" } ]
            """;
        ModelSpec plain = TrainingModel.FromLayers(ModelSpecJson.ParseLayers(Layers.Replace(" SETTING", "", StringComparison.Ordinal), "arch"), "t", Digits);
        TrainingModel.CheckTrainable(plain, Digits);   // the same network without the setting trains

        ModelSpec spec = TrainingModel.FromLayers(ModelSpecJson.ParseLayers(Layers.Replace(" SETTING", ", " + setting, StringComparison.Ordinal), "arch"), "t", Digits);
        var e = Assert.Throws<ModelFormatException>(() => TrainingModel.CheckTrainable(spec, Digits));
        Assert.Contains("layer 2 (conv2, conv2d)", e.Message);
        Assert.Contains("cannot be trained yet (only groups 1, dilation 1)", e.Message);
    }

    [Fact]
    public void A_graph_whose_layers_name_the_layer_before_them_trains_as_the_chain_it_is()
    {
        const string Layers = """
            [ { "type": "conv2d", "name": "conv1", "filters": 4, "kernel": 3, "stride": 2 },
              { "type": "relu", "name": "r1", "inputs": ["conv1"] },
              { "type": "conv2d", "name": "conv2", "filters": 4, "kernel": 3, "inputs": ["r1"] },
              { "type": "flatten", "name": "flat", "inputs": ["conv2"] },
              { "type": "dense", "name": "fc1", "units": 10, "inputs": ["flat"] } ]
            """;
        ModelSpec spec = TrainingModel.FromLayers(ModelSpecJson.ParseLayers(Layers, "arch"), "t", Digits);

        TrainNetwork network = TrainNetwork.Create(spec, WeightInitializer.Initialize(spec, 0), 1, EngineOptions.Default with { Threads = 1 });
        Assert.Equal(["conv2d", "conv2d", "flatten", "dense"], network.Layers.Select(l => l.Type));   // the ReLU runs inside conv1
    }

    [Fact]
    public void A_softmax_inside_the_network_is_not_trainable()
    {
        string inner = SmallLayers.Replace("{ \"type\": \"relu\" }", "{ \"type\": \"softmax\" }", StringComparison.Ordinal);
        ModelSpec spec = TrainingModel.FromLayers(ModelSpecJson.ParseLayers(inner, "arch"), "t", Digits);

        Assert.Throws<ModelFormatException>(() => TrainingModel.CheckTrainable(spec, Digits));
    }

    [Fact]
    public void Training_data_limits_then_holds_out_the_validation_share()
    {
        TrainingData data = TrainingData.From(DatasetCatalog.Open(Fixtures.MnistSmall, DatasetSplit.Train, null), DatasetCatalog.Open(Fixtures.MnistSmall, DatasetSplit.Test, null),
            limit: 100, validationSplit: 0.2, seed: 1);

        Assert.Equal((80, 20, 1000), (data.Train.Count, data.Validation!.Count, data.Test.Count));
    }
}
