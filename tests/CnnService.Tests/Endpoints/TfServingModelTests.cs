using System.Net;
using System.Text.Json;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

/// <summary>TensorFlow Serving's model status (<c>model_version_status</c> on GET /v1/models/{m}) and metadata (<c>.../metadata</c>).</summary>
public sealed class TfServingModelTests : IClassFixture<ShippedModelsService>
{
    private readonly HttpClient _client;

    public TfServingModelTests(ShippedModelsService service) => _client = service.Client;

    [Fact]
    public async Task Model_info_carries_the_status_of_every_version_beside_its_own_fields()
    {
        JsonElement info = await GetOkAsync("/v1/models/mnist");

        Assert.Equal(2, info.GetProperty("version").GetInt32());
        Assert.True(info.GetProperty("is_default").GetBoolean());
        JsonElement[] statuses = [.. info.GetProperty("model_version_status").EnumerateArray()];
        Assert.Equal(["1", "2"], statuses.Select(s => s.GetProperty("version").GetString()));
        Assert.All(statuses, s =>
        {
            Assert.Equal("AVAILABLE", s.GetProperty("state").GetString());
            Assert.Equal("OK", s.GetProperty("status").GetProperty("error_code").GetString());
            Assert.Equal("", s.GetProperty("status").GetProperty("error_message").GetString());
        });
    }

    [Fact]
    public async Task Version_info_carries_the_status_of_that_version_only()
    {
        JsonElement info = await GetOkAsync("/v1/models/mnist/versions/1");

        JsonElement status = Assert.Single(info.GetProperty("model_version_status").EnumerateArray());
        Assert.Equal("1", status.GetProperty("version").GetString());
        Assert.Equal("AVAILABLE", status.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Metadata_is_the_serving_default_signature_in_tf_servings_shape()
    {
        JsonElement metadata = await GetOkAsync("/v1/models/mnist/metadata");

        JsonElement spec = metadata.GetProperty("model_spec");
        Assert.Equal("mnist", spec.GetProperty("name").GetString());
        Assert.Equal("2", spec.GetProperty("version").GetString());
        Assert.Equal("", spec.GetProperty("signature_name").GetString());
        JsonElement signature = metadata.GetProperty("metadata").GetProperty("signature_def").GetProperty("signature_def").GetProperty("serving_default");
        Assert.Equal("tensorflow/serving/predict", signature.GetProperty("method_name").GetString());
        JsonElement input = signature.GetProperty("inputs").GetProperty("image");
        Assert.Equal("DT_FLOAT", input.GetProperty("dtype").GetString());
        Assert.Equal("image", input.GetProperty("name").GetString());
        Assert.Equal(["-1", "1", "28", "28"], Dims(input));
        Assert.False(input.GetProperty("tensor_shape").GetProperty("unknown_rank").GetBoolean());
        JsonElement output = signature.GetProperty("outputs").GetProperty("probabilities");
        Assert.Equal("DT_FLOAT", output.GetProperty("dtype").GetString());
        Assert.Equal(["-1", "10"], Dims(output));
    }

    [Fact]
    public async Task Versioned_metadata_names_that_version()
    {
        JsonElement metadata = await GetOkAsync("/v1/models/mnist/versions/1/metadata");

        Assert.Equal("1", metadata.GetProperty("model_spec").GetProperty("version").GetString());
    }

    [Theory]
    [InlineData("/v1/models/nosuch/metadata", HttpStatusCode.NotFound)]
    [InlineData("/v1/models/mnist/versions/9/metadata", HttpStatusCode.NotFound)]
    [InlineData("/v1/models/mnist/versions/x/metadata", HttpStatusCode.BadRequest)]
    public async Task Metadata_of_an_unknown_model_or_version_is_an_error(string path, HttpStatusCode status)
    {
        using HttpResponseMessage response = await _client.GetAsync(path);

        Assert.Equal(status, response.StatusCode);
        Assert.False(string.IsNullOrEmpty(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task A_version_that_failed_to_load_is_reported_ended_with_its_error()
    {
        using var models = new TempModels();
        models.Add("digits", 1);
        File.WriteAllText(Path.Combine(models.Add("digits", 2), "model.json"), "{ not json");
        await using var factory = new ServiceFactory(new Dictionary<string, string?> { ["Models:Root"] = models.Root });
        HttpClient client = await factory.ReadyClientAsync();

        JsonElement info = JsonDocument.Parse(await client.GetStringAsync("/v1/models/digits")).RootElement;

        JsonElement[] statuses = [.. info.GetProperty("model_version_status").EnumerateArray()];
        Assert.Equal(["1", "2"], statuses.Select(s => s.GetProperty("version").GetString()));
        Assert.Equal("AVAILABLE", statuses[0].GetProperty("state").GetString());
        Assert.Equal("END", statuses[1].GetProperty("state").GetString());
        Assert.NotEqual("OK", statuses[1].GetProperty("status").GetProperty("error_code").GetString());
        Assert.False(string.IsNullOrEmpty(statuses[1].GetProperty("status").GetProperty("error_message").GetString()));
    }

    private static string[] Dims(JsonElement tensor) =>
        [.. tensor.GetProperty("tensor_shape").GetProperty("dim").EnumerateArray().Select(d => d.GetProperty("size").GetString()!)];

    private async Task<JsonElement> GetOkAsync(string path)
    {
        using HttpResponseMessage response = await _client.GetAsync(path);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement;
    }
}
