using System.Net;
using System.Text.Json;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Tests.Endpoints;
using CnnService.Tests.Support;

namespace CnnService.Tests.Models;

/// <summary>A model that branches (model.json format 2: a residual add and a concat) is served, described and explained as a chain is.</summary>
public sealed class GraphModelTests : IDisposable
{
    private readonly TempModels _models = new();

    public void Dispose() => _models.Dispose();

    /// <summary>conv, relu; conv of that; add of the two; relu; concat with the first relu; pool; dense; softmax.</summary>
    private static readonly string Json = """
        {
          "format": 2, "name": "residual", "labels": ["0","1","2","3","4","5","6","7","8","9"],
          "input": { "channels": 1, "height": 28, "width": 28, "color": "grayscale", "scale": 0.00392156862745098 },
          "layers": [
            { "type": "conv2d", "name": "a", "filters": 4, "kernel": 3, "padding": 1 },
            { "type": "relu", "name": "a_relu" },
            { "type": "conv2d", "name": "b", "filters": 4, "kernel": 3, "padding": 1 },
            { "type": "add", "name": "sum", "inputs": ["a_relu", "b"] },
            { "type": "relu", "name": "sum_relu" },
            { "type": "concat", "name": "both", "inputs": ["sum_relu", "a_relu"] },
            { "type": "maxpool2d", "kernel": 2 },
            { "type": "flatten" },
            { "type": "dense", "name": "fc", "units": 10 },
            { "type": "softmax" }
          ]
        }
        """;

    private async Task<HttpClient> ServeAsync(ServiceFactory factory)
    {
        ModelSpec spec = ModelSpecJson.Parse(Json, "model.json");
        ModelWriter.Write(Path.Combine(_models.Root, "residual", "1"), spec, WeightInitializer.Initialize(spec, seed: 1).AllFloat32());
        return await factory.ReadyClientAsync();
    }

    private ServiceFactory Service() => new(new Dictionary<string, string?> { ["Models:Root"] = _models.Root });

    [Fact]
    public async Task A_graph_models_details_name_what_each_layer_reads()
    {
        await using ServiceFactory factory = Service();
        HttpClient client = await ServeAsync(factory);

        JsonElement layers = JsonDocument.Parse(await client.GetStringAsync("/v1/models/residual")).RootElement.GetProperty("layers");

        Assert.Equal([1, 2], layers[3].GetProperty("inputs").EnumerateArray().Select(i => i.GetInt32()));
        Assert.Equal([4, 1], layers[5].GetProperty("inputs").EnumerateArray().Select(i => i.GetInt32()));
        Assert.Equal([8, 28, 28], layers[5].GetProperty("output_shape").EnumerateArray().Select(i => i.GetInt32()));
        Assert.True(layers[1].GetProperty("fused").GetBoolean(), "the ReLU is the conv's only reader, so it runs inside it");
        Assert.True(layers[4].GetProperty("fused").GetBoolean(), "a ReLU that is an add's only reader runs in the add's store");
    }

    [Fact]
    public async Task Explaining_a_graph_model_maps_every_layer_including_the_add_and_the_concat()
    {
        await using ServiceFactory factory = Service();
        HttpClient client = await ServeAsync(factory);

        using HttpResponseMessage response = await client.PostAsync("/v1/models/residual/explain", ExplainEndpointsTests.Sample("mnist", "digit-7.png"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement layers = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("layers");
        Assert.Equal(10, layers.GetArrayLength());
        Assert.Equal(4, layers[3].GetProperty("maps").GetArrayLength());   // add: one map per channel
        Assert.Equal(8, layers[5].GetProperty("maps").GetArrayLength());   // concat: both inputs' channels
    }
}
