using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

/// <summary><c>GET /v1/models/{name}/samples</c>: the images shipped in <c>models/&lt;name&gt;/samples/</c>.</summary>
public sealed class SampleEndpointsTests : IClassFixture<ShippedModelsService>
{
    private readonly HttpClient _client;

    public SampleEndpointsTests(ShippedModelsService service) => _client = service.Client;

    [Theory]
    [InlineData("mnist", 12)]
    [InlineData("fashion-mnist", 10)]
    public async Task Each_shipped_model_lists_its_labelled_samples_and_classifies_every_one_correctly(string model, int count)
    {
        JsonElement samples = JsonDocument.Parse(await _client.GetStringAsync($"/v1/models/{model}/samples")).RootElement.GetProperty("samples");

        Assert.Equal(count, samples.GetArrayLength());
        foreach (JsonElement sample in samples.EnumerateArray())
        {
            using HttpResponseMessage image = await _client.GetAsync(sample.GetProperty("url").GetString());
            Assert.Equal(HttpStatusCode.OK, image.StatusCode);
            var body = new ByteArrayContent(await image.Content.ReadAsByteArrayAsync());
            body.Headers.ContentType = new MediaTypeHeaderValue(image.Content.Headers.ContentType!.MediaType!);

            using HttpResponseMessage predicted = await _client.PostAsync($"/v1/models/{model}/predict", body);
            JsonElement top = JsonDocument.Parse(await predicted.Content.ReadAsStringAsync()).RootElement.GetProperty("predictions")[0].GetProperty("top")[0];
            Assert.Equal(sample.GetProperty("label").GetString(), top.GetProperty("label").GetString());
        }
    }

    [Theory]
    [InlineData("/v1/models/mnist/samples/digit-10.png")]
    [InlineData("/v1/models/mnist/samples/samples.json")]
    [InlineData("/v1/models/mnist/samples/..%2F1%2Fmodel.json")]
    [InlineData("/v1/models/mnist/samples/..%2F..%2Ffashion-mnist%2Fsamples%2Fbag.png")]
    [InlineData("/v1/models/nope/samples/digit-1.png")]
    [InlineData("/v1/models/nope/samples")]
    public async Task Only_listed_kinds_of_file_inside_a_served_models_samples_folder_are_served(string url)
    {
        using HttpResponseMessage response = await _client.GetAsync(url);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
