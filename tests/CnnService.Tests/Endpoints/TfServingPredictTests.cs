using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

/// <summary>
/// TensorFlow Serving's predict and classify (<c>/v1/models/{m}[/versions/{v}]:predict|:classify</c>) over the
/// shipped models: row and columnar bodies, raw instances and <c>{"b64": ...}</c> images, answered as /v1 predict would.
/// </summary>
public sealed class TfServingPredictTests : IClassFixture<ShippedModelsService>
{
    private readonly HttpClient _client;

    public TfServingPredictTests(ShippedModelsService service) => _client = service.Client;

    private static string B64(string photo) => Convert.ToBase64String(File.ReadAllBytes(Fixtures.Image(photo)));

    /// <summary>A classify body, <c>{"examples": [{"image": {"b64": ...}}, ...]}</c>, of image fixtures.</summary>
    private static string Examples(params string[] photos) =>
        new JsonObject { ["examples"] = new JsonArray([.. photos.Select(p => (JsonNode)new JsonObject { ["image"] = new JsonObject { ["b64"] = B64(p) } })]) }.ToJsonString();

    private static JsonArray Instances(params int[] indices) => new([.. indices.Select(i => (JsonNode)MnistSamples.Instance(i, MnistSamples.Spec))]);

    [Fact]
    public async Task Row_format_predictions_are_the_probabilities_v1_predict_gives_for_the_same_instances()
    {
        string body = MnistSamples.InstancesBody(0, 1);
        JsonElement v1 = await PostOkAsync("/v1/models/mnist/predict", body);

        JsonElement tf = await PostOkAsync("/v1/models/mnist:predict", body);

        JsonElement predictions = tf.GetProperty("predictions");
        Assert.Equal(2, predictions.GetArrayLength());
        for (int i = 0; i < 2; i++)
            AssertClose(Floats(v1.GetProperty("predictions")[i].GetProperty("probabilities")), Floats(predictions[i]));
        Assert.Equal(MnistSamples.Label(1), ArgMax(Floats(predictions[1])));
        Assert.Single(tf.EnumerateObject());  // {"predictions": ...} and nothing else, as TF Serving answers
    }

    [Fact]
    public async Task Columnar_inputs_are_answered_as_outputs_one_row_per_instance()
    {
        string row = new JsonObject { ["instances"] = Instances(2, 3) }.ToJsonString();
        string columnar = new JsonObject { ["inputs"] = Instances(2, 3) }.ToJsonString();
        JsonElement rowAnswer = await PostOkAsync("/v1/models/mnist:predict", row);

        JsonElement answer = await PostOkAsync("/v1/models/mnist:predict", columnar);

        JsonElement outputs = answer.GetProperty("outputs");
        Assert.False(answer.TryGetProperty("predictions", out _));
        Assert.Equal(2, outputs.GetArrayLength());
        Assert.Equal(10, outputs[0].GetArrayLength());
        AssertClose(Floats(rowAnswer.GetProperty("predictions")[1]), Floats(outputs[1]));
        Assert.Equal(MnistSamples.Label(3), ArgMax(Floats(outputs[1])));
    }

    [Fact]
    public async Task Columnar_inputs_may_name_the_input()
    {
        string body = new JsonObject { ["inputs"] = new JsonObject { ["image"] = Instances(4) } }.ToJsonString();

        JsonElement answer = await PostOkAsync("/v1/models/mnist:predict", body);

        Assert.Equal(MnistSamples.Label(4), ArgMax(Floats(answer.GetProperty("outputs")[0])));
    }

    [Fact]
    public async Task A_b64_image_is_decoded_and_preprocessed_as_v1_predict_does_it()
    {
        using var png = new ByteArrayContent(File.ReadAllBytes(Fixtures.Image("photo-2.png")));
        png.Headers.ContentType = new("image/png");
        using HttpResponseMessage v1 = await _client.PostAsync("/v1/models/mnist/predict", png);
        float[] expected = Floats(JsonDocument.Parse(await v1.Content.ReadAsStringAsync()).RootElement.GetProperty("predictions")[0].GetProperty("probabilities"));

        JsonElement answer = await PostOkAsync("/v1/models/mnist:predict", $$"""{"instances": [{"b64": "{{B64("photo-2.png")}}"}]}""");

        AssertClose(expected, Floats(answer.GetProperty("predictions")[0]));
        Assert.Equal(2, ArgMax(expected));
    }

    [Fact]
    public async Task One_request_may_mix_named_b64_images_and_raw_instances()
    {
        string body = new JsonObject
        {
            ["signature_name"] = "serving_default",
            ["instances"] = new JsonArray(
                new JsonObject { ["image"] = new JsonObject { ["b64"] = B64("photo-4.png") } },
                new JsonObject { ["image"] = MnistSamples.Instance(7, MnistSamples.Spec) }),
        }.ToJsonString();

        JsonElement answer = await PostOkAsync("/v1/models/mnist:predict", body);

        Assert.Equal([4, MnistSamples.Label(7)], answer.GetProperty("predictions").EnumerateArray().Select(p => ArgMax(Floats(p))));
    }

    [Fact]
    public async Task A_body_sent_as_curl_d_sends_it_form_urlencoded_is_read_as_json()
    {
        using var content = new StringContent(MnistSamples.InstancesBody(5), Encoding.UTF8, "application/x-www-form-urlencoded");

        using HttpResponseMessage response = await _client.PostAsync("/v1/models/mnist:predict", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(MnistSamples.Label(5), ArgMax(Floats(answer.GetProperty("predictions")[0])));
    }

    [Fact]
    public async Task Classify_results_are_label_score_pairs_most_probable_first()
    {
        string body = Examples("photo-0.png", "photo-9.jpg");

        JsonElement answer = await PostOkAsync("/v1/models/mnist:classify", body);

        JsonElement results = answer.GetProperty("results");
        Assert.Equal(2, results.GetArrayLength());
        Assert.Equal(["0", "9"], results.EnumerateArray().Select(r => r[0][0].GetString()));
        JsonElement first = results[0];
        Assert.Equal(5, first.GetArrayLength());  // top_k's default, as /v1 predict
        float[] scores = first.EnumerateArray().Select(pair => pair[1].GetSingle()).ToArray();
        Assert.Equal(scores.OrderDescending(), scores);
        Assert.InRange(scores[0], 0.5f, 1f);
    }

    [Fact]
    public async Task Classify_takes_top_k_and_its_scores_are_the_predict_probabilities()
    {
        string example = new JsonObject { ["examples"] = new JsonArray(new JsonObject { ["image"] = MnistSamples.Instance(6, MnistSamples.Spec) }) }.ToJsonString();
        float[] probabilities = Floats((await PostOkAsync("/v1/models/mnist:predict", MnistSamples.InstancesBody(6))).GetProperty("predictions")[0]);

        JsonElement answer = await PostOkAsync("/v1/models/mnist:classify?top_k=2", example);

        JsonElement pairs = answer.GetProperty("results")[0];
        Assert.Equal(2, pairs.GetArrayLength());
        int best = ArgMax(probabilities);
        Assert.Equal(best.ToString(System.Globalization.CultureInfo.InvariantCulture), pairs[0][0].GetString());
        Assert.Equal(probabilities[best], pairs[0][1].GetSingle(), 6);
    }

    [Fact]
    public async Task Versioned_predict_uses_that_version_as_v1_predict_does()
    {
        string body = MnistSamples.InstancesBody(8);
        float[] v1 = Floats((await PostOkAsync("/v1/models/mnist/versions/1/predict", body)).GetProperty("predictions")[0].GetProperty("probabilities"));
        float[] v2 = Floats((await PostOkAsync("/v1/models/mnist/versions/2/predict", body)).GetProperty("predictions")[0].GetProperty("probabilities"));

        float[] tf = Floats((await PostOkAsync("/v1/models/mnist/versions/1:predict", body)).GetProperty("predictions")[0]);

        AssertClose(v1, tf);
        Assert.NotEqual(v2, tf);
    }

    [Fact]
    public async Task Versioned_classify_answers_results()
    {
        string body = Examples("photo-5.jpg");

        JsonElement answer = await PostOkAsync("/v1/models/mnist/versions/1:classify", body);

        Assert.Equal("5", answer.GetProperty("results")[0][0][0].GetString());
    }

    [Fact]
    public async Task The_v1_predict_route_still_answers_its_own_shape()
    {
        JsonElement answer = await PostOkAsync("/v1/models/mnist/predict", MnistSamples.InstancesBody(0));

        Assert.Equal("mnist", answer.GetProperty("model").GetString());
        Assert.Equal(2, answer.GetProperty("version").GetInt32());
        Assert.Equal(5, answer.GetProperty("predictions")[0].GetProperty("top").GetArrayLength());
    }

    private static float[] Floats(JsonElement array) => array.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    private static int ArgMax(float[] values) => Array.IndexOf(values, values.Max());

    /// <summary>Within 1e-6: the same numbers, allowing only for a batch computed at another size.</summary>
    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-6f);
    }

    private async Task<JsonElement> PostOkAsync(string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await _client.PostAsync(path, content);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement;
    }
}
