using System.Net;
using System.Text.Json;
using CnnService.Imaging.Rendering;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

/// <summary><c>activations/{layer}.png</c>: one layer's channels in one picture, of an explained (cached) image or a posted one.</summary>
public sealed class ActivationEndpointsTests : IClassFixture<ShippedModelsService>
{
    private readonly HttpClient _client;

    public ActivationEndpointsTests(ShippedModelsService service) => _client = service.Client;

    private async Task<JsonElement> ExplainAsync(string model, string sample)
    {
        using HttpResponseMessage response = await _client.PostAsync($"/v1/models/{model}/explain", ExplainEndpointsTests.Sample(model, sample));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    private static async Task<byte[]> PngBytesAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsByteArrayAsync();
    }

    [Fact]
    public async Task The_mosaic_of_an_explained_image_holds_each_channels_map_in_its_tile()
    {
        JsonElement explained = await ExplainAsync("mnist", "digit-4.png");
        JsonElement conv = explained.GetProperty("layers")[0];

        using HttpResponseMessage response = await _client.GetAsync(conv.GetProperty("activations_url").GetString());
        using var mosaic = new Png(await PngBytesAsync(response));

        MosaicLayout layout = MosaicLayout.Grid(32, 28, 28, ActivationRenderer.PixelSize(28, 28));
        Assert.Equal((layout.Width, layout.Height), (mosaic.Width, mosaic.Height));
        foreach (int channel in new[] { 0, 17, 31 })
        {
            using var map = Png.FromBase64(conv.GetProperty("maps")[channel].GetString()!);
            (int x, int y) = layout.Origin(channel);
            for (int py = 0; py < map.Height; py += 5)
                for (int px = 0; px < map.Width; px += 5)
                    Assert.Equal(map.At(px, py), mosaic.At(x + px, y + py));
        }
    }

    [Fact]
    public async Task A_vector_layer_is_drawn_as_a_strip_of_cells()
    {
        JsonElement explained = await ExplainAsync("mnist", "digit-4.png");
        string url = explained.GetProperty("layers").EnumerateArray().Last().GetProperty("activations_url").GetString()!;

        using HttpResponseMessage response = await _client.GetAsync(url);
        using var png = new Png(await PngBytesAsync(response));

        MosaicLayout layout = MosaicLayout.Grid(10, 1, 1, ActivationRenderer.PixelSize(1, 1));
        Assert.Equal((layout.Width, layout.Height), (png.Width, png.Height));
        (int x, int y) = layout.Origin(4);
        Assert.Equal((ColorScale.High.R, ColorScale.High.G, ColorScale.High.B), png.At(x, y));   // the winning class is the darkest cell
    }

    [Fact]
    public async Task Posting_an_image_gives_the_same_picture_as_explaining_it_first()
    {
        JsonElement explained = await ExplainAsync("mnist", "digit-9.png");
        using HttpResponseMessage cached = await _client.GetAsync(explained.GetProperty("layers")[6].GetProperty("activations_url").GetString());
        int version = explained.GetProperty("version").GetInt32();

        using HttpResponseMessage posted = await _client.PostAsync($"/v1/models/mnist/versions/{version}/activations/6.png", ExplainEndpointsTests.Sample("mnist", "digit-9.png"));

        Assert.Equal(await PngBytesAsync(cached), await PngBytesAsync(posted));
    }

    [Fact]
    public async Task Without_an_id_the_cached_form_says_to_give_one()
    {
        using HttpResponseMessage response = await _client.GetAsync("/v1/models/mnist/activations/0.png");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("id", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_unknown_id_or_one_of_another_model_is_not_found()
    {
        JsonElement explained = await ExplainAsync("fashion-mnist", "bag.png");
        string id = explained.GetProperty("id").GetString()!;

        using HttpResponseMessage unknown = await _client.GetAsync("/v1/models/mnist/activations/0.png?id=0123456789abcdef0123456789abcdef");
        using HttpResponseMessage otherModel = await _client.GetAsync($"/v1/models/mnist/activations/0.png?id={id}");
        using HttpResponseMessage otherVersion = await _client.GetAsync($"/v1/models/fashion-mnist/versions/7/activations/0.png?id={id}");
        using HttpResponseMessage right = await _client.GetAsync($"/v1/models/fashion-mnist/activations/0.png?id={id}");

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("expired", await unknown.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, otherModel.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, otherVersion.StatusCode);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
    }

    [Fact]
    public async Task An_unknown_layer_of_a_cached_explanation_is_not_found()
    {
        JsonElement explained = await ExplainAsync("mnist", "digit-0.png");

        using HttpResponseMessage response = await _client.GetAsync($"/v1/models/mnist/activations/99.png?id={explained.GetProperty("id").GetString()}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("no layer \\\"99\\\"", await response.Content.ReadAsStringAsync());
    }
}
