using System.Net;
using System.Text;
using System.Text.Json;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

/// <summary>TensorFlow Serving's refusals: <c>{"error": "..."}</c> with the status TF Serving gives the cause, naming what is wrong.</summary>
public sealed class TfServingErrorTests : IClassFixture<ShippedModelsService>
{
    private readonly HttpClient _client;

    public TfServingErrorTests(ShippedModelsService service) => _client = service.Client;

    [Fact]
    public async Task An_unknown_signature_name_is_a_400_naming_it()
    {
        string body = """{"signature_name": "predict_images", "instances": []}""".Replace("[]", $"[{MnistSamples.Instance(0, MnistSamples.Spec).ToJsonString()}]");

        string error = await PostErrorAsync("/v1/models/mnist:predict", body, HttpStatusCode.BadRequest);

        Assert.Contains("\"predict_images\" not found", error);
    }

    [Fact]
    public async Task An_unknown_model_is_a_404()
    {
        string error = await PostErrorAsync("/v1/models/nosuch:predict", MnistSamples.InstancesBody(0), HttpStatusCode.NotFound);

        Assert.Contains("nosuch", error);
    }

    [Fact]
    public async Task Finite_instances_that_overflow_the_network_are_a_400_not_a_500()
    {
        string row = "[" + string.Join(",", Enumerable.Repeat("3e38", 28)) + "]";
        string json = $$"""{"instances": [[[{{string.Join(",", Enumerable.Repeat(row, 28))}}]]]}""";

        string error = await PostErrorAsync("/v1/models/mnist:predict", json, HttpStatusCode.BadRequest);

        Assert.Contains("overflows float32", error);
    }

    [Theory]
    [InlineData("/v1/models/mnist/versions/9:predict")]
    [InlineData("/v1/models/mnist/versions/9:classify")]
    [InlineData("/v1/models/nosuch:classify")]
    public async Task An_unknown_model_or_version_is_a_404_on_every_verb(string path)
    {
        await PostErrorAsync(path, MnistSamples.InstancesBody(0), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_version_that_is_not_a_number_is_a_400()
    {
        await PostErrorAsync("/v1/models/mnist/versions/x:predict", MnistSamples.InstancesBody(0), HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("""{"instances": [[[1, 2, 3]]]}""", "instances[0][0][0] must be an array of 28")]
    [InlineData("""{"instances": [{"pixels": [1]}]}""", "instances[0] has no named input \"pixels\"")]
    [InlineData("""{"instances": [{"b64": "not base64!"}]}""", "instances[0]: \"b64\" must be a base64 string")]
    [InlineData("""{"instances": [{"b64": "aGVsbG8=", "x": 1}]}""", "has no other keys")]
    [InlineData("""{"instances": ["aGVsbG8="]}""", "instances[0] must be a 1 x 28 x 28 nested array of numbers or an encoded image")]
    [InlineData("""{"instances": []}""", "nothing to predict")]
    [InlineData("""{"inputs": {"b64": "aGVsbG8="}}""", "inputs must be a list with one item per instance")]
    [InlineData("""{"inputs": {"pixels": []}}""", "inputs has no named input \"pixels\"")]
    [InlineData("""{"instances": [], "inputs": []}""", "not both")]
    [InlineData("""{"examples": []}""", "Missing \"instances\" or \"inputs\" key")]
    [InlineData("""{"signature_name": 7, "instances": []}""", "'signature_name' key must be a string value")]
    [InlineData("""[1, 2]""", "must be a JSON object")]
    [InlineData("""{"instances": [""", "not valid JSON")]
    [InlineData("", "empty")]
    public async Task A_malformed_predict_body_is_a_400_that_says_what_is_wrong(string json, string expected)
    {
        string error = await PostErrorAsync("/v1/models/mnist:predict", json, HttpStatusCode.BadRequest);

        Assert.Contains(expected, error);
    }

    [Theory]
    [InlineData("""{"examples": [{"b64": "aGVsbG8="}]}""", "examples[0] has no named input \"b64\"")]
    [InlineData("""{"examples": [[[[0]]]]}""", "examples[0] must be an object with the feature \"image\"")]
    [InlineData("""{"context": {"image": 1}, "examples": []}""", "\"context\" must be empty")]
    [InlineData("""{"instances": []}""", "Missing \"examples\" key")]
    [InlineData("""{"examples": [], "examples": []}""", "Give \"examples\" once")]
    public async Task A_malformed_classify_body_is_a_400_that_says_what_is_wrong(string json, string expected)
    {
        string error = await PostErrorAsync("/v1/models/mnist:classify", json, HttpStatusCode.BadRequest);

        Assert.Contains(expected, error);
    }

    [Fact]
    public async Task A_channels_last_instance_is_a_400_saying_instances_are_channels_first()
    {
        var pixel = new System.Text.Json.Nodes.JsonArray(0.5);
        var row = new System.Text.Json.Nodes.JsonArray([.. Enumerable.Range(0, 28).Select(_ => (System.Text.Json.Nodes.JsonNode)pixel.DeepClone())]);
        var image = new System.Text.Json.Nodes.JsonArray([.. Enumerable.Range(0, 28).Select(_ => (System.Text.Json.Nodes.JsonNode)row.DeepClone())]);
        string body = new System.Text.Json.Nodes.JsonObject { ["instances"] = new System.Text.Json.Nodes.JsonArray(image) }.ToJsonString();  // 28 x 28 x 1

        string error = await PostErrorAsync("/v1/models/mnist:predict", body, HttpStatusCode.BadRequest);

        Assert.StartsWith("instances[0][0][0] has 1 values, not 28", error);
        Assert.Contains("channels first, C x H x W", error);
    }

    [Fact]
    public async Task A_b64_value_that_is_no_image_is_refused_naming_the_instance()
    {
        string error = await PostErrorAsync("/v1/models/mnist:predict", """{"instances": [{"image": {"b64": "aGVsbG8gd29ybGQ="}}]}""", HttpStatusCode.UnsupportedMediaType);

        Assert.StartsWith("instances[0].image", error);
    }

    [Fact]
    public async Task Regress_is_a_400_saying_the_model_has_no_regression_signature()
    {
        string error = await PostErrorAsync("/v1/models/mnist:regress", """{"examples": [{"x": 1.0}]}""", HttpStatusCode.BadRequest);

        Assert.Contains("no regression signature", error);
    }

    [Fact]
    public async Task Regress_on_an_unknown_model_is_a_404()
    {
        await PostErrorAsync("/v1/models/nosuch/versions/1:regress", """{"examples": [{"x": 1.0}]}""", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_b64_image_past_the_pixel_limit_is_413_before_any_pixel_is_decoded()
    {
        string b64 = Convert.ToBase64String(File.ReadAllBytes(Fixtures.Image("huge-header.png")));

        string error = await PostErrorAsync("/v1/models/mnist:predict", $$"""{"instances": [{"b64": "{{b64}}"}]}""", HttpStatusCode.RequestEntityTooLarge);

        Assert.Contains("100000 x 100000", error);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("two")]
    public async Task Classify_top_k_must_be_a_positive_integer(string topK)
    {
        await PostErrorAsync($"/v1/models/mnist:classify?top_k={topK}", """{"examples": []}""", HttpStatusCode.BadRequest);
    }

    private async Task<string> PostErrorAsync(string path, string json, HttpStatusCode status)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await _client.PostAsync(path, content);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        JsonElement body = JsonDocument.Parse(text).RootElement;
        Assert.Single(body.EnumerateObject());
        return body.GetProperty("error").GetString()!;
    }
}
