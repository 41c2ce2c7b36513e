using System.Text.Json.Nodes;

namespace CnnService.Tests.Jobs;

/// <summary>Request bodies for the tests: tiny runs on the committed fixtures.</summary>
public static class JobBodies
{
    /// <summary>A network small enough that an epoch of a few hundred images takes milliseconds: conv 4 3x3 stride 2, dense 10.</summary>
    public const string TinyLayers = """
        [ { "type": "conv2d", "name": "conv1", "filters": 4, "kernel": 3, "stride": 2 }, { "type": "relu" },
          { "type": "flatten" }, { "type": "dense", "name": "fc1", "units": 10 }, { "type": "softmax" } ]
        """;

    public static string Fixtures => Support.Fixtures.Root;

    public static string MnistSmall => Path.Combine(Fixtures, "mnist-small");
    public static string FashionMnistSmall => Path.Combine(Fixtures, "fashion-mnist-small");

    /// <summary>One epoch of the tiny network on 256 fixture digits, with <paramref name="changes"/> applied (a null value removes the field).</summary>
    public static JsonObject Tiny(params (string Field, JsonNode? Value)[] changes)
    {
        var body = new JsonObject
        {
            ["model"] = "digits", ["arch"] = JsonNode.Parse(TinyLayers), ["dataset"] = MnistSmall, ["epochs"] = 1, ["batch_size"] = 32,
            ["limit"] = 256, ["seed"] = 1, ["threads"] = 1,
        };
        foreach ((string field, JsonNode? value) in changes)
        {
            if (value is null) body.Remove(field);
            else body[field] = value;
        }

        return body;
    }

    /// <summary>A run long enough (hundreds of tiny epochs) to be caught running, canceled or interrupted.</summary>
    public static JsonObject Long(params (string Field, JsonNode? Value)[] changes) =>
        Tiny([("epochs", 1000), ("limit", 64), .. changes]);
}
