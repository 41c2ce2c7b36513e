using System.Net;
using System.Text.Json;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

/// <summary>The v2 server and model metadata and health endpoints, as a Triton or KServe client reads them.</summary>
public sealed class V2MetadataTests(ShippedModelsService service) : IClassFixture<ShippedModelsService>
{
    private readonly HttpClient _client = service.Client;

    private async Task<JsonElement> GetAsync(string path)
    {
        using HttpResponseMessage response = await _client.GetAsync(path);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    private static string Tensor(JsonElement tensor) =>
        $"{tensor.GetProperty("name").GetString()} {tensor.GetProperty("datatype").GetString()} [{string.Join(", ", tensor.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()))}]";

    [Fact]
    public async Task Server_metadata_lists_the_extensions_the_server_supports()
    {
        JsonElement body = await GetAsync("/v2");

        Assert.Equal("cnnservice", body.GetProperty("name").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("version").GetString()));
        Assert.Equal(["binary_tensor_data", "classification", "model_repository"], body.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Model_metadata_declares_the_input_and_output_with_a_free_batch_dimension()
    {
        JsonElement body = await GetAsync("/v2/models/mnist");

        Assert.Equal("mnist", body.GetProperty("name").GetString());
        Assert.Equal(["1", "2"], body.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal("cnnservice_safetensors", body.GetProperty("platform").GetString());
        Assert.Equal(["input FP32 [-1, 1, 28, 28]"], body.GetProperty("inputs").EnumerateArray().Select(Tensor));
        Assert.Equal(["output FP32 [-1, 10]"], body.GetProperty("outputs").EnumerateArray().Select(Tensor));
    }

    [Fact]
    public async Task Version_metadata_answers_for_a_served_version()
    {
        JsonElement body = await GetAsync("/v2/models/fashion-mnist/versions/1");

        Assert.Equal(["1"], body.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal(["output FP32 [-1, 10]"], body.GetProperty("outputs").EnumerateArray().Select(Tensor));
    }

    [Fact]
    public async Task A_version_that_is_not_a_positive_integer_is_400()
    {
        using HttpResponseMessage response = await _client.GetAsync("/v2/models/mnist/versions/latest");

        Assert.Contains("\"latest\" is not a positive integer", await V2Wire.ErrorAsync(response, HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task Live_is_200()
    {
        Assert.True((await GetAsync("/v2/health/live")).GetProperty("live").GetBoolean());
    }

    [Fact]
    public async Task Ready_is_200_once_every_model_is_loaded_and_warm()
    {
        Assert.True((await GetAsync("/v2/health/ready")).GetProperty("ready").GetBoolean());
    }

    [Fact]
    public async Task A_served_model_and_version_are_ready()
    {
        JsonElement model = await GetAsync("/v2/models/mnist/ready");
        JsonElement version = await GetAsync("/v2/models/mnist/versions/1/ready");

        Assert.Equal("mnist", model.GetProperty("name").GetString());
        Assert.True(model.GetProperty("ready").GetBoolean());
        Assert.True(version.GetProperty("ready").GetBoolean());
    }

    [Fact]
    public async Task An_unknown_model_is_not_ready_404()
    {
        using HttpResponseMessage response = await _client.GetAsync("/v2/models/no-such-model/ready");

        Assert.Contains("no-such-model", await V2Wire.ErrorAsync(response, HttpStatusCode.NotFound));
    }
}
