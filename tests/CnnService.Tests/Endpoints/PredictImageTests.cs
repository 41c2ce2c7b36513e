using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

/// <summary>
/// Predict with real images: the photo-like digits of <c>tests/fixtures/images</c> (MNIST test digits
/// drawn dark on light paper, large and off centre; photo-N shows the digit N), and hostile files.
/// </summary>
public sealed class PredictImageTests : IClassFixture<ShippedModelsService>
{
    private readonly HttpClient _client;

    public PredictImageTests(ShippedModelsService service) => _client = service.Client;

    private static readonly string[] Photos =
        ["photo-0.png", "photo-1.jpg", "photo-2.png", "photo-3-exif6.jpg", "photo-4.png", "photo-5.jpg", "photo-6.webp", "photo-7.gif", "photo-8.bmp", "photo-9.jpg"];

    private static int Label(string photo) => int.Parse(photo[6..7], System.Globalization.CultureInfo.InvariantCulture);

    private static ByteArrayContent File(string name, string type)
    {
        var content = new ByteArrayContent(System.IO.File.ReadAllBytes(Fixtures.Image(name)));
        content.Headers.ContentType = new MediaTypeHeaderValue(type);
        return content;
    }

    private static string TypeOf(string name) => Path.GetExtension(name) switch
    {
        ".png" => "image/png", ".jpg" => "image/jpeg", ".webp" => "image/webp", ".gif" => "image/gif", ".bmp" => "image/bmp",
        _ => "application/octet-stream",
    };

    private static int[] Predicted(JsonElement body) =>
        body.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("top")[0].GetProperty("index").GetInt32()).ToArray();

    [Fact]
    public async Task Multipart_files_of_every_format_get_one_prediction_each_in_order()
    {
        using var form = new MultipartFormDataContent();
        foreach (string photo in Photos) form.Add(File(photo, TypeOf(photo)), photo.Length % 2 == 0 ? "file" : "image", photo);

        using HttpResponseMessage response = await _client.PostAsync("/v1/models/mnist/predict", form);
        string text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        int[] predicted = Predicted(JsonDocument.Parse(text).RootElement);
        int[] expected = Photos.Select(Label).ToArray();
        Assert.Equal(10, predicted.Length);
        Assert.True(predicted.Zip(expected).Count(p => p.First == p.Second) >= 9, $"predicted {string.Join(",", predicted)}, expected {string.Join(",", expected)}");
    }

    [Fact]
    public async Task A_raw_png_body_gets_one_prediction()
    {
        using HttpResponseMessage response = await _client.PostAsync("/v1/models/mnist/versions/1/predict", File("photo-0.png", "image/png"));
        string text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal([Label("photo-0.png")], Predicted(JsonDocument.Parse(text).RootElement));
    }

    [Fact]
    public async Task Base64_images_in_json_are_classified()
    {
        string json = $$"""{"images": ["{{Convert.ToBase64String(System.IO.File.ReadAllBytes(Fixtures.Image("photo-2.png")))}}", "{{Convert.ToBase64String(System.IO.File.ReadAllBytes(Fixtures.Image("photo-4.png")))}}"]}""";
        using var content = new StringContent(json, Encoding.UTF8, "application/json");

        using HttpResponseMessage response = await _client.PostAsync("/v1/models/mnist/predict", content);
        string text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal([Label("photo-2.png"), Label("photo-4.png")], Predicted(JsonDocument.Parse(text).RootElement));
    }

    [Fact]
    public async Task A_transparent_png_is_composited_on_white_and_classified()
    {
        using HttpResponseMessage response = await _client.PostAsync("/v1/models/mnist/predict", File("rgba-transparent.png", "image/png"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task An_rgb_photo_is_converted_for_a_grayscale_model_without_mnist_preprocessing()
    {
        using HttpResponseMessage response = await _client.PostAsync("/v1/models/fashion-mnist/predict", File("photo-1.jpg", "image/jpeg"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("gif-bomb.gif", "image/gif", HttpStatusCode.RequestEntityTooLarge, "limit")]
    [InlineData("huge-header.png", "image/png", HttpStatusCode.RequestEntityTooLarge, "100000 x 100000")]
    [InlineData("truncated.png", "image/png", HttpStatusCode.BadRequest, "truncated")]
    [InlineData("random.bin", "image/png", HttpStatusCode.UnsupportedMediaType, "the body")]
    public async Task A_hostile_image_is_a_precise_problem(string name, string type, HttpStatusCode status, string expected)
    {
        using HttpResponseMessage response = await _client.PostAsync("/v1/models/mnist/predict", File(name, type));
        string text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == status, text);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(expected, JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_one_pixel_image_is_400()
    {
        // The smallest valid PNG: 1 x 1, 8-bit grayscale.
        byte[] png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==");
        using var content = new ByteArrayContent(png);
        content.Headers.ContentType = new("image/png");

        using HttpResponseMessage response = await _client.PostAsync("/v1/models/mnist/predict", content);
        string text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
        Assert.Contains("1 x 1 pixels", text);
    }

    [Fact]
    public async Task A_bad_file_among_good_ones_is_named_in_the_problem()
    {
        using var form = new MultipartFormDataContent();
        form.Add(File("photo-0.png", "image/png"), "file", "photo-0.png");
        form.Add(File("truncated.png", "image/png"), "file", "truncated.png");

        using HttpResponseMessage response = await _client.PostAsync("/v1/models/mnist/predict", form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        string detail = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString()!;
        Assert.StartsWith("file 1 (\"truncated.png\")", detail);
    }
}
