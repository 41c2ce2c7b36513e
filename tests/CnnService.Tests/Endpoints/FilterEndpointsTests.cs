using System.Net;
using CnnService.Engine.Layers;
using CnnService.Imaging.Rendering;
using CnnService.Models;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

/// <summary><c>GET /v1/models/{name}/filters/{layer}.png</c>: a conv layer's kernels, drawn from the loaded weights.</summary>
public sealed class FilterEndpointsTests : IClassFixture<ShippedModelsService>
{
    private readonly ShippedModelsService _service;

    public FilterEndpointsTests(ShippedModelsService service) => _service = service;

    private async Task<Png> GetPngAsync(string url)
    {
        using HttpResponseMessage response = await _service.Client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        return new Png(await response.Content.ReadAsByteArrayAsync());
    }

    private Conv2D Conv(string model, int version, int index)
    {
        Assert.True(_service.Factory.Repository.TryAcquire(model, version, out ModelLease lease, out _));
        using (lease) return (Conv2D)lease.Version.Model.Layers[index];
    }

    [Fact]
    public async Task The_first_conv_layer_of_a_grey_model_is_one_tile_per_filter_each_kernel_on_its_own_diverging_scale()
    {
        Conv2D conv = Conv("mnist", 1, 0);
        float[] weights = conv.CopyWeights();

        using Png png = await GetPngAsync("/v1/models/mnist/versions/1/filters/conv1.png");

        FilterLayout layout = FilterLayout.For(32, 1, 3, 3, FilterRenderer.PixelSize(3, 3));
        Assert.Equal((8, 4), (layout.Columns, layout.Rows));
        Assert.Equal((layout.Width, layout.Height), (png.Width, png.Height));
        foreach (int filter in new[] { 0, 13, 31 })
        {
            ReadOnlySpan<float> kernel = weights.AsSpan(filter * 9, 9);
            ColorScale scale = ColorScale.Of(kernel) with { Kind = ColorScaleKind.Diverging };
            (int x, int y) = layout.Origin(filter);
            for (int i = 0; i < 9; i++)
            {
                Rgb expected = scale.ColorOf(kernel[i]);
                Assert.Equal((expected.R, expected.G, expected.B), png.At(x + i % 3 * layout.Pixel, y + i / 3 * layout.Pixel));
            }
        }
    }

    [Fact]
    public async Task A_deeper_conv_layer_is_one_block_of_tiles_per_filter_one_tile_per_input_channel()
    {
        Conv2D conv = Conv("mnist", 2, 3);

        using Png png = await GetPngAsync("/v1/models/mnist/versions/2/filters/conv2.png");

        FilterLayout layout = FilterLayout.For(conv.OutputShape.C, conv.InputShape.C, 3, 3, FilterRenderer.PixelSize(3, 3));
        Assert.Equal((8, 4, 8, 4), (layout.Columns, layout.Rows, layout.ChannelColumns, layout.ChannelRows));   // 32 filters of 32 channels
        Assert.Equal((layout.Width, layout.Height), (png.Width, png.Height));
    }

    [Fact]
    public async Task A_layer_can_be_named_by_its_index_and_the_default_version_is_used_without_one()
    {
        using Png byIndex = await GetPngAsync("/v1/models/mnist/filters/0.png");
        using Png byName = await GetPngAsync("/v1/models/mnist/versions/2/filters/conv1.png");

        Assert.Equal((byName.Width, byName.Height), (byIndex.Width, byIndex.Height));
        Assert.Equal(byName.At(5, 5), byIndex.At(5, 5));
    }

    [Theory]
    [InlineData("/v1/models/mnist/filters/conv9.png", HttpStatusCode.NotFound, "conv9")]
    [InlineData("/v1/models/mnist/filters/fc1.png", HttpStatusCode.BadRequest, "dense")]
    [InlineData("/v1/models/mnist/filters/2.png", HttpStatusCode.BadRequest, "relu")]
    [InlineData("/v1/models/nope/filters/conv1.png", HttpStatusCode.NotFound, "nope")]
    [InlineData("/v1/models/mnist/versions/0/filters/conv1.png", HttpStatusCode.BadRequest, "\\\"0\\\"")]
    public async Task Unknown_layers_models_and_layers_without_kernels_get_a_problem(string url, HttpStatusCode expected, string detail)
    {
        using HttpResponseMessage response = await _service.Client.GetAsync(url);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(detail, await response.Content.ReadAsStringAsync());
    }
}
