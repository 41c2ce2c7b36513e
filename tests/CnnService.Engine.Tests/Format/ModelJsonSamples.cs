using CnnService.Engine.Format;

namespace CnnService.Engine.Tests.Format;

/// <summary>model.json texts and assertions shared by the model format tests.</summary>
internal static class ModelJsonSamples
{
    public const string FileName = "model.json";

    /// <summary>The example from the format description, verbatim.</summary>
    public const string Mnist = """
        {
          "name": "mnist",
          "description": "Keras MNIST CNN",
          "input": { "channels": 1, "height": 28, "width": 28, "color": "grayscale",
                     "scale": 0.00392156862745098, "mean": [0.0], "std": [1.0] },
          "labels": ["0","1","2","3","4","5","6","7","8","9"],
          "layers": [
            { "type": "conv2d", "name": "conv1", "filters": 32, "kernel": [3,3], "stride": [1,1], "padding": [0,0], "padding_mode": "zeros" },
            { "type": "relu" },
            { "type": "maxpool2d", "kernel": [2,2], "stride": [2,2] },
            { "type": "flatten" },
            { "type": "dense", "name": "fc1", "units": 100 },
            { "type": "relu" },
            { "type": "dense", "name": "fc2", "units": 10 },
            { "type": "softmax" }
          ],
          "metrics": { "dataset": "mnist", "test_accuracy": 0.99 }
        }
        """;

    /// <summary>A minimal valid model whose layers are <paramref name="layers"/> (JSON objects, comma separated).</summary>
    public static string WithLayers(string layers) =>
        $$"""{ "name": "m", "input": { "channels": 3, "height": 8, "width": 8 }, "layers": [ {{layers}} ] }""";

    /// <summary>A minimal valid model whose input object is <paramref name="input"/>.</summary>
    public static string WithInput(string input) =>
        $$"""{ "name": "m", "input": {{input}}, "layers": [ { "type": "relu" } ] }""";

    public static ModelSpec Parse(string json) => ModelSpecJson.Parse(json, FileName);

    public static LayerSpec SingleLayer(string layer) => Parse(WithLayers(layer)).Layers[0];

    /// <summary>Parsing must fail with a message that starts with the file name and contains every keyword.</summary>
    public static ModelFormatException AssertRejected(string json, params string[] keywords)
    {
        var e = Assert.Throws<ModelFormatException>(() => Parse(json));
        Assert.StartsWith(FileName + ": ", e.Message);
        foreach (var k in keywords)
            Assert.Contains(k, e.Message);
        return e;
    }

    public static ModelFormatException AssertLayerRejected(string layer, params string[] keywords) =>
        AssertRejected(WithLayers(layer), keywords);

    public static ModelFormatException AssertInputRejected(string input, params string[] keywords) =>
        AssertRejected(WithInput(input), ["input", .. keywords]);
}
