using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

public sealed class ModelEndpointsTests : IClassFixture<ShippedModelsService>
{
    private readonly ShippedModelsService _service;

    public ModelEndpointsTests(ShippedModelsService service) => _service = service;

    [Fact]
    public async Task List_names_every_shipped_model_with_its_versions_and_default()
    {
        JsonElement list = await GetJsonAsync("/v1/models");

        var models = list.GetProperty("models").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!);
        Assert.Equal(["fashion-mnist", "mnist"], models.Keys.Order());
        Assert.Equal(2, models["mnist"].GetProperty("default_version").GetInt32());
        Assert.Equal([1, 2], models["mnist"].GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("version").GetInt32()));
        Assert.All(models["mnist"].GetProperty("versions").EnumerateArray(), v => Assert.Equal("available", v.GetProperty("state").GetString()));
    }

    [Fact]
    public async Task Model_info_describes_the_default_version()
    {
        JsonElement info = await GetJsonAsync("/v1/models/mnist");

        Assert.Equal(2, info.GetProperty("version").GetInt32());
        Assert.True(info.GetProperty("is_default").GetBoolean());
        Assert.Equal(28, info.GetProperty("input").GetProperty("height").GetInt32());
        Assert.Equal("grayscale", info.GetProperty("input").GetProperty("color").GetString());
        Assert.Equal(10, info.GetProperty("labels").GetArrayLength());
        Assert.True(info.GetProperty("metrics").GetProperty("test_accuracy").GetDouble() > 0.99);
    }

    [Fact]
    public async Task Version_info_has_the_layer_table_parameters_and_weights_hash()
    {
        JsonElement info = await GetJsonAsync("/v1/models/mnist/versions/1");

        Assert.Equal(1, info.GetProperty("version").GetInt32());
        Assert.False(info.GetProperty("is_default").GetBoolean());
        JsonElement conv = info.GetProperty("layers")[0];
        Assert.Equal("conv2d", conv.GetProperty("type").GetString());
        Assert.Equal([32, 26, 26], conv.GetProperty("output_shape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal(32 * 9 + 32, conv.GetProperty("parameters").GetInt64());
        Assert.True(conv.GetProperty("mflops").GetDouble() > 0);
        // conv 320 + dense 5408*100+100 + dense 100*10+10
        Assert.Equal(320 + 540_900 + 1_010, info.GetProperty("total_parameters").GetInt64());
        string expected = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(Fixtures.Models, "mnist", "1", "weights.safetensors"))));
        Assert.Equal(expected, info.GetProperty("weights_sha256").GetString());
    }

    [Theory]
    [InlineData("/v1/models/nosuch", HttpStatusCode.NotFound)]
    [InlineData("/v1/models/mnist/versions/9", HttpStatusCode.NotFound)]
    [InlineData("/v1/models/mnist/versions/x", HttpStatusCode.BadRequest)]
    [InlineData("/v1/models/mnist/versions/0", HttpStatusCode.BadRequest)]
    public async Task Unknown_models_and_versions_are_problems(string path, HttpStatusCode status)
    {
        using HttpResponseMessage response = await _service.Client.GetAsync(path);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        JsonElement problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
    }

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        using HttpResponseMessage response = await _service.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }
}
