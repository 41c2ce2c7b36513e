using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

/// <summary><c>POST /v1/models/{name}/explain</c> on the shipped models, with the shipped sample images.</summary>
public sealed class ExplainEndpointsTests : IClassFixture<ShippedModelsService>
{
    private readonly HttpClient _client;

    public ExplainEndpointsTests(ShippedModelsService service) => _client = service.Client;

    internal static ByteArrayContent Sample(string model, string file, string type = "image/png")
    {
        var content = new ByteArrayContent(File.ReadAllBytes(Path.Combine(Fixtures.Models, model, "samples", file)));
        content.Headers.ContentType = new MediaTypeHeaderValue(type);
        return content;
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> ExplainAsync(string url, HttpContent content)
    {
        using HttpResponseMessage response = await _client.PostAsync(url, content);
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement);
    }

    private async Task<JsonElement> LayersOfAsync(string model) =>
        JsonDocument.Parse(await _client.GetStringAsync($"/v1/models/{model}")).RootElement.GetProperty("layers");

    [Fact]
    public async Task Explaining_a_digit_predicts_it_and_describes_every_layer_as_the_model_info_does()
    {
        (HttpStatusCode status, JsonElement body) = await ExplainAsync("/v1/models/mnist/explain", Sample("mnist", "digit-7.png"));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("mnist", body.GetProperty("model").GetString());
        Assert.Equal("7", body.GetProperty("prediction").GetProperty("top")[0].GetProperty("label").GetString());
        Assert.Equal(5, body.GetProperty("prediction").GetProperty("top").GetArrayLength());
        JsonElement info = await LayersOfAsync("mnist");
        JsonElement layers = body.GetProperty("layers");
        Assert.Equal(info.GetArrayLength(), layers.GetArrayLength());
        for (int i = 0; i < layers.GetArrayLength(); i++)
        {
            Assert.Equal(i, layers[i].GetProperty("index").GetInt32());
            Assert.Equal(info[i].GetProperty("type").GetString(), layers[i].GetProperty("type").GetString());
            Assert.Equal(info[i].GetProperty("output_shape").ToString(), layers[i].GetProperty("output_shape").ToString());
        }
    }

    [Fact]
    public async Task Spatial_layers_have_one_png_per_channel_scaled_up_to_a_readable_size()
    {
        (_, JsonElement body) = await ExplainAsync("/v1/models/mnist/explain", Sample("mnist", "digit-3.png"));

        foreach (JsonElement layer in body.GetProperty("layers").EnumerateArray().Where(l => l.GetProperty("output_shape")[1].GetInt32() > 1))
        {
            int c = layer.GetProperty("output_shape")[0].GetInt32(), h = layer.GetProperty("output_shape")[1].GetInt32();
            JsonElement maps = layer.GetProperty("maps");
            Assert.Equal(c, maps.GetArrayLength());
            Assert.False(layer.TryGetProperty("values", out _));
            using var png = Png.FromBase64(maps[c - 1].GetString()!);
            Assert.Equal(h * (96 / h), png.Height);   // whole pixels per value, about 96 a side
            Assert.InRange(png.Height, 84, 96);
        }
    }

    [Fact]
    public async Task The_input_is_shown_as_the_network_saw_it_after_preprocessing()
    {
        (_, JsonElement body) = await ExplainAsync("/v1/models/mnist/explain", Sample("mnist", "photo-6.webp", "image/webp"));

        JsonElement input = body.GetProperty("input");
        Assert.Equal("[1,28,28]", input.GetProperty("shape").ToString());
        using var png = Png.FromBase64(input.GetProperty("image").GetString()!);
        Assert.Equal((84, 84), (png.Width, png.Height));
        Assert.Equal(((byte)0, (byte)0, (byte)0), png.At(0, 0));   // MNIST style: the paper became black, the ink white
        Assert.Equal("6", body.GetProperty("prediction").GetProperty("top")[0].GetProperty("label").GetString());
    }

    [Fact]
    public async Task Vector_layers_return_their_values_and_the_softmax_values_are_the_probabilities()
    {
        (_, JsonElement body) = await ExplainAsync("/v1/models/mnist/explain", Sample("mnist", "digit-2.png"));

        JsonElement softmax = body.GetProperty("layers").EnumerateArray().Last();
        Assert.Equal("softmax", softmax.GetProperty("type").GetString());
        Assert.False(softmax.TryGetProperty("maps", out _));
        float[] values = softmax.GetProperty("values").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        float[] probabilities = body.GetProperty("prediction").GetProperty("probabilities").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.Equal(probabilities, values);
        Assert.Equal(1f, values.Sum(), 3);
    }

    [Fact]
    public async Task A_conv_layer_shows_its_signed_output_on_a_diverging_scale_and_the_relu_after_it_a_sequential_one()
    {
        (_, JsonElement body) = await ExplainAsync("/v1/models/mnist/versions/1/explain", Sample("mnist", "digit-5.png"));

        JsonElement conv = body.GetProperty("layers")[0], relu = body.GetProperty("layers")[1];
        Assert.Equal(("conv2d", "relu"), (conv.GetProperty("type").GetString(), relu.GetProperty("type").GetString()));
        Assert.Equal("diverging", conv.GetProperty("scale").GetString());
        Assert.True(conv.GetProperty("min").GetSingle() < 0);
        Assert.Equal("sequential", relu.GetProperty("scale").GetString());
        Assert.Equal(0f, relu.GetProperty("min").GetSingle());
        Assert.Equal(conv.GetProperty("max").GetSingle(), relu.GetProperty("max").GetSingle());
        Assert.Equal("/v1/models/mnist/versions/1/filters/0.png", conv.GetProperty("filters_url").GetString());
        Assert.False(relu.TryGetProperty("filters_url", out _));
    }

    [Theory]
    [InlineData("conv2", 3)]
    [InlineData("2", 2)]
    public async Task The_layer_query_returns_only_that_layer_by_name_or_index(string layer, int index)
    {
        (HttpStatusCode status, JsonElement body) = await ExplainAsync($"/v1/models/mnist/explain?layer={layer}", Sample("mnist", "digit-1.png"));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(index, body.GetProperty("layers").EnumerateArray().Single().GetProperty("index").GetInt32());
        Assert.Equal("1", body.GetProperty("prediction").GetProperty("top")[0].GetProperty("label").GetString());
    }

    [Fact]
    public async Task The_size_query_sets_the_pixels_a_side_of_each_map()
    {
        (_, JsonElement body) = await ExplainAsync("/v1/models/mnist/explain?layer=0&size=28", Sample("mnist", "digit-1.png"));

        using var png = Png.FromBase64(body.GetProperty("layers")[0].GetProperty("maps")[0].GetString()!);
        Assert.Equal((28, 28), (png.Width, png.Height));
    }

    [Theory]
    [InlineData("/v1/models/mnist/explain?layer=conv9", HttpStatusCode.NotFound, "conv9")]
    [InlineData("/v1/models/mnist/explain?layer=21", HttpStatusCode.NotFound, "0..20")]
    [InlineData("/v1/models/nope/explain", HttpStatusCode.NotFound, "nope")]
    [InlineData("/v1/models/mnist/versions/9/explain", HttpStatusCode.NotFound, "9")]
    [InlineData("/v1/models/mnist/versions/x/explain", HttpStatusCode.BadRequest, "\\\"x\\\"")]
    [InlineData("/v1/models/mnist/explain?size=4", HttpStatusCode.BadRequest, "8 to 512")]
    [InlineData("/v1/models/mnist/explain?top_k=0", HttpStatusCode.BadRequest, "top_k")]
    public async Task Bad_requests_get_a_problem_that_says_what_is_wrong(string url, HttpStatusCode expected, string detail)
    {
        using HttpResponseMessage response = await _client.PostAsync(url, Sample("mnist", "digit-1.png"));
        string text = await response.Content.ReadAsStringAsync();

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(detail, text);
    }

    [Fact]
    public async Task Explain_takes_exactly_one_image()
    {
        using var form = new MultipartFormDataContent();
        form.Add(Sample("mnist", "digit-1.png"), "file", "a.png");
        form.Add(Sample("mnist", "digit-2.png"), "file", "b.png");

        (HttpStatusCode status, JsonElement body) = await ExplainAsync("/v1/models/mnist/explain", form);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("exactly one image", body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_broken_image_is_a_400_and_the_service_keeps_explaining()
    {
        var broken = new ByteArrayContent(File.ReadAllBytes(Fixtures.Image("truncated.png")));
        broken.Headers.ContentType = new MediaTypeHeaderValue("image/png");

        (HttpStatusCode status, _) = await ExplainAsync("/v1/models/mnist/explain", broken);
        (HttpStatusCode after, _) = await ExplainAsync("/v1/models/mnist/explain", Sample("mnist", "digit-1.png"));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(HttpStatusCode.OK, after);
    }

    [Fact]
    public async Task Fashion_samples_are_explained_with_their_label_names()
    {
        (HttpStatusCode status, JsonElement body) = await ExplainAsync("/v1/models/fashion-mnist/explain", Sample("fashion-mnist", "trouser.png"));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Trouser", body.GetProperty("prediction").GetProperty("top")[0].GetProperty("label").GetString());
    }
}
