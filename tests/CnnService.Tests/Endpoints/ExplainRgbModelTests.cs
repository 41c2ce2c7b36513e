using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Imaging.Rendering;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

/// <summary>Explain on an RGB network: CNN Explainer's TinyVGG (3 x 64 x 64), with seeded random weights, served from a temp root.</summary>
public sealed class ExplainRgbModelTests : IAsyncLifetime
{
    private readonly TempFolder _root = new();
    private ServiceFactory _factory = null!;
    private HttpClient _client = null!;
    private float[] _conv1 = [];

    public async Task InitializeAsync()
    {
        ModelSpec spec = Architectures.TinyVgg();
        WeightSet weights = WeightInitializer.Initialize(spec, seed: 7);
        _conv1 = weights.AllFloat32().Single(t => t.Name == "conv_1_1.weight").Data;
        ModelWriter.Write(_root.Combine("tinyvgg", "1"), spec, weights.AllFloat32());
        _factory = new ServiceFactory(new Dictionary<string, string?> { ["Models:Root"] = _root.Root });
        _client = await _factory.ReadyClientAsync();
    }

    [Fact]
    public async Task First_layer_filters_of_a_colour_network_are_one_rgb_tile_per_kernel_stretched_over_its_own_range()
    {
        using HttpResponseMessage response = await _client.GetAsync("/v1/models/tinyvgg/filters/conv_1_1.png");
        using var png = new Png(await response.Content.ReadAsByteArrayAsync());

        FilterLayout layout = FilterLayout.For(10, 1, 3, 3, FilterRenderer.PixelSize(3, 3));
        Assert.Equal((layout.Width, layout.Height), (png.Width, png.Height));
        for (int filter = 0; filter < 10; filter++)
        {
            float[] kernel = _conv1.AsSpan(filter * 27, 27).ToArray();
            (int x, int y) = layout.Origin(filter);
            Assert.Equal(255, Intensity(png, layout, x, y, Array.IndexOf(kernel, kernel.Max())));   // the kernel's largest weight: full intensity in its colour
            Assert.Equal(0, Intensity(png, layout, x, y, Array.IndexOf(kernel, kernel.Min())));     // its smallest: none
        }
    }

    [Fact]
    public async Task A_colour_photo_is_explained_with_an_rgb_input_picture_and_maps_for_every_spatial_layer()
    {
        var photo = new ByteArrayContent(File.ReadAllBytes(Fixtures.Image("photo-5.jpg")));
        photo.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");

        using HttpResponseMessage response = await _client.PostAsync("/v1/models/tinyvgg/explain", photo);
        JsonElement body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("[3,64,64]", body.GetProperty("input").GetProperty("shape").ToString());
        using var input = Png.FromBase64(body.GetProperty("input").GetProperty("image").GetString()!);
        Assert.Equal((64, 64), (input.Width, input.Height));   // 96 / 64 rounds down to one pixel a value
        JsonElement conv1 = body.GetProperty("layers")[0];
        Assert.Equal("[10,62,62]", conv1.GetProperty("output_shape").ToString());
        Assert.Equal(10, conv1.GetProperty("maps").GetArrayLength());
        Assert.Equal(10, body.GetProperty("prediction").GetProperty("probabilities").GetArrayLength());
    }

    /// <summary>The colour channel of weight <paramref name="index"/> of a [3, 3, 3] kernel, in its tile at (x, y).</summary>
    private static byte Intensity(Png png, FilterLayout layout, int x, int y, int index)
    {
        int plane = index / 9, at = index % 9;
        (byte r, byte g, byte b) = png.At(x + at % 3 * layout.Pixel, y + at / 3 * layout.Pixel);
        return plane switch { 0 => r, 1 => g, _ => b };
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        _root.Dispose();
    }
}
