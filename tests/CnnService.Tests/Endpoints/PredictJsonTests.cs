using System.Net;
using System.Text;
using System.Text.Json;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

/// <summary>Predict with TensorFlow Serving's JSON row format, and every way such a request can be wrong.</summary>
public sealed class PredictJsonTests : IClassFixture<ShippedModelsService>
{
    private readonly HttpClient _client;

    public PredictJsonTests(ShippedModelsService service) => _client = service.Client;

    [Fact]
    public async Task Instances_of_real_digits_are_classified_in_order()
    {
        int[] indices = [0, 1, 2, 3, 4, 5, 6, 7];

        JsonElement body = await PostOkAsync("/v1/models/mnist/predict", MnistSamples.InstancesBody(indices));

        Assert.Equal("mnist", body.GetProperty("model").GetString());
        Assert.Equal(2, body.GetProperty("version").GetInt32());
        int[] predicted = body.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("top")[0].GetProperty("index").GetInt32()).ToArray();
        Assert.Equal(indices.Select(MnistSamples.Label), predicted);
    }

    [Fact]
    public async Task A_prediction_has_top_k_classes_most_probable_first_and_every_probability()
    {
        JsonElement body = await PostOkAsync("/v1/models/mnist/versions/1/predict?top_k=3", MnistSamples.InstancesBody(0));

        Assert.Equal(1, body.GetProperty("version").GetInt32());
        JsonElement prediction = body.GetProperty("predictions")[0];
        float[] top = prediction.GetProperty("top").EnumerateArray().Select(t => t.GetProperty("probability").GetSingle()).ToArray();
        float[] all = prediction.GetProperty("probabilities").EnumerateArray().Select(p => p.GetSingle()).ToArray();
        Assert.Equal(3, top.Length);
        Assert.True(top[0] >= top[1] && top[1] >= top[2]);
        Assert.Equal(10, all.Length);
        Assert.Equal(1.0, all.Sum(), 3);
        Assert.Equal(MnistSamples.Label(0).ToString(System.Globalization.CultureInfo.InvariantCulture), prediction.GetProperty("top")[0].GetProperty("label").GetString());
    }

    [Fact]
    public async Task Base64_images_that_are_not_images_are_a_problem_naming_the_image()
    {
        string body = """{"images": ["aGVsbG8gd29ybGQ="]}""";

        JsonElement problem = await PostProblemAsync("/v1/models/mnist/predict", body, HttpStatusCode.UnsupportedMediaType);

        Assert.Contains("images[0]", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("""{"instances": [[[1, 2, 3]]]}""", "instances[0][0][0] must be an array of 28")]
    [InlineData("""{"instances": [[[[1, 2, 3]]]]}""", "instances[0][0][0] has 3 values, not 28")]
    [InlineData("""{"instances": [[1]]}""", "instances[0][0] must be an array of 28")]
    [InlineData("""{"instances": [5]}""", "instances[0] must be an array of 1")]
    [InlineData("""{"instances": []}""", "\"instances\" is empty")]
    [InlineData("""{"instances": [[[["x"]]]]}""", "instances[0][0][0][0] must be a number")]
    [InlineData("""{"images": [42]}""", "images[0] must be a base64 string")]
    [InlineData("""{"images": ["not base64!"]}""", "images[0] must be a base64 string")]
    [InlineData("""{"instances": [], "images": []}""", "not both")]
    [InlineData("""{"inputs": []}""", "neither \"instances\" nor \"images\"")]
    [InlineData("""[1, 2]""", "must be a JSON object")]
    [InlineData("""{"instances": [""", "not valid JSON")]
    [InlineData("""{"instances": NaN}""", "not valid JSON")]
    public async Task Malformed_json_is_a_400_that_says_what_is_wrong(string json, string expected)
    {
        JsonElement problem = await PostProblemAsync("/v1/models/mnist/predict", json, HttpStatusCode.BadRequest);

        Assert.Contains(expected, problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_value_past_float32_range_is_rejected_as_not_finite()
    {
        string json = MnistSamples.InstancesBody(0);
        json = json[..json.IndexOf('0', json.IndexOf("[[[", StringComparison.Ordinal))] + "1e999" + json[(json.IndexOf('0', json.IndexOf("[[[", StringComparison.Ordinal)) + 1)..];

        JsonElement problem = await PostProblemAsync("/v1/models/mnist/predict", json, HttpStatusCode.BadRequest);

        Assert.Contains("instances[0][0][0][0] is not a finite float32", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Finite_instances_that_overflow_the_network_are_a_400_not_a_500()
    {
        string row = "[" + string.Join(",", Enumerable.Repeat("3e38", 28)) + "]";
        string json = $$"""{"instances": [[[{{string.Join(",", Enumerable.Repeat(row, 28))}}]]]}""";

        JsonElement problem = await PostProblemAsync("/v1/models/mnist/predict", json, HttpStatusCode.BadRequest);

        Assert.Contains("Image 0 of the request overflows float32", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("two")]
    public async Task Top_k_must_be_a_positive_integer(string topK)
    {
        await PostProblemAsync($"/v1/models/mnist/predict?top_k={topK}", MnistSamples.InstancesBody(0), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Top_k_larger_than_the_classes_gives_every_class()
    {
        JsonElement body = await PostOkAsync("/v1/models/mnist/predict?top_k=50", MnistSamples.InstancesBody(0));

        Assert.Equal(10, body.GetProperty("predictions")[0].GetProperty("top").GetArrayLength());
    }

    [Fact]
    public async Task An_unknown_model_is_404()
    {
        await PostProblemAsync("/v1/models/nosuch/predict", MnistSamples.InstancesBody(0), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task An_unknown_version_is_404()
    {
        await PostProblemAsync("/v1/models/mnist/versions/7/predict", MnistSamples.InstancesBody(0), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task An_unsupported_content_type_is_415()
    {
        using var content = new StringContent("hello", Encoding.UTF8, "text/plain");
        using HttpResponseMessage response = await _client.PostAsync("/v1/models/mnist/predict", content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("garbage without any boundary")]
    [InlineData("--xyz\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.png\"\r\n\r\nunterminated")]
    [InlineData("--xyz\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nnot a file\r\n--xyz--\r\n")]
    public async Task A_malformed_or_fileless_multipart_body_is_400(string body)
    {
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("multipart/form-data; boundary=xyz");
        using HttpResponseMessage response = await _client.PostAsync("/v1/models/mnist/predict", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_multipart_header_past_the_reader_limit_is_400()
    {
        string body = "--xyz\r\nX-Long: " + new string('a', 40_000) + "\r\n\r\nx\r\n--xyz--\r\n";
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("multipart/form-data; boundary=xyz");
        using HttpResponseMessage response = await _client.PostAsync("/v1/models/mnist/predict", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task An_empty_body_is_400()
    {
        using var content = new ByteArrayContent([]);
        content.Headers.ContentType = new("image/png");
        using HttpResponseMessage response = await _client.PostAsync("/v1/models/mnist/predict", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private async Task<JsonElement> PostOkAsync(string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await _client.PostAsync(path, content);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement;
    }

    private async Task<JsonElement> PostProblemAsync(string path, string json, HttpStatusCode status)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await _client.PostAsync(path, content);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement;
    }
}
