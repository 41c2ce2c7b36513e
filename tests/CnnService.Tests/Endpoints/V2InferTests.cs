using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CnnService.Engine.Format;
using CnnService.Imaging;
using CnnService.Models;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

/// <summary>
/// <c>POST /v2/models/{m}/infer</c> (Open Inference Protocol v2) gives what <c>/v1/.../predict</c> gives for the same
/// image, whatever form the image takes: a normalised FP32 tensor, raw UINT8 pixels, an encoded PNG as BYTES, JSON or binary.
/// </summary>
public sealed class V2InferTests(ShippedModelsService service) : IClassFixture<ShippedModelsService>
{
    private readonly HttpClient _client = service.Client;

    private static byte[] Png(string name) => File.ReadAllBytes(Fixtures.Image(name));

    private static float[] Instance(int index) =>
        MnistSamples.Instance(index, MnistSamples.Spec).AsArray()[0]!.AsArray().SelectMany(row => row!.AsArray().Select(v => v!.GetValue<float>())).ToArray();

    /// <summary>/v1 predict's probabilities for each image of the request.</summary>
    private async Task<float[][]> V1ProbabilitiesAsync(string model, HttpContent content)
    {
        using HttpResponseMessage response = await _client.PostAsync($"/v1/models/{model}/predict", content);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("predictions").EnumerateArray()
            .Select(p => p.GetProperty("probabilities").EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();
    }

    private async Task<JsonElement> InferAsync(string model, HttpContent content)
    {
        using HttpResponseMessage response = await _client.PostAsync($"/v2/models/{model}/infer", content);
        return (await V2Wire.ReadAsync(response)).Json;
    }

    private static ByteArrayContent RawPng(string name)
    {
        var content = new ByteArrayContent(Png(name));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        return content;
    }

    [Fact]
    public async Task Fp32_infer_returns_the_probabilities_v1_predict_returns_for_the_same_digit()
    {
        float[][] expected = await V1ProbabilitiesAsync("mnist", new StringContent(MnistSamples.InstancesBody(0), Encoding.UTF8, "application/json"));

        JsonElement response = await InferAsync("mnist", V2Wire.Json(V2Wire.Request(V2Wire.Input("FP32", [1, 1, 28, 28], V2Wire.Floats(Instance(0))))));

        Assert.Equal("mnist", response.GetProperty("model_name").GetString());
        JsonElement output = Assert.Single(response.GetProperty("outputs").EnumerateArray());
        Assert.Equal("output", output.GetProperty("name").GetString());
        Assert.Equal("FP32", output.GetProperty("datatype").GetString());
        Assert.Equal([1, 10], output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal(expected[0], V2Wire.Data(output));
    }

    [Fact]
    public async Task Nested_data_gives_the_same_output_as_flat_data()
    {
        JsonArray nested = new(MnistSamples.Instance(1, MnistSamples.Spec));
        JsonElement flat = await InferAsync("mnist", V2Wire.Json(V2Wire.Request(V2Wire.Input("FP32", [1, 1, 28, 28], V2Wire.Floats(Instance(1))))));

        JsonElement fromNested = await InferAsync("mnist", V2Wire.Json(V2Wire.Request(V2Wire.Input("FP32", [1, 1, 28, 28], nested))));

        Assert.Equal(V2Wire.Data(flat.GetProperty("outputs")[0]), V2Wire.Data(fromNested.GetProperty("outputs")[0]));
    }

    [Fact]
    public async Task A_bytes_png_gets_the_probabilities_v1_predict_gives_the_same_png()
    {
        float[][] expected = await V1ProbabilitiesAsync("mnist", RawPng("photo-2.png"));

        JsonElement response = await InferAsync("mnist", V2Wire.Json(V2Wire.Request(V2Wire.Input("BYTES", [1], V2Wire.Base64(Png("photo-2.png"))))));

        Assert.Equal(expected[0], V2Wire.Data(response.GetProperty("outputs")[0]));
    }

    [Fact]
    public async Task A_uint8_tensor_of_the_pngs_pixels_gets_the_same_output_as_the_png()
    {
        Assert.True(service.Factory.Repository.TryAcquire("mnist", null, out ModelLease lease, out _));
        InputSpec spec;
        using (lease) spec = lease.Version.Model.Spec.Input;
        var pixels = new float[28 * 28];
        ImagePreprocessor.ToPixels(Png("photo-4.png"), spec, ImageLimits.Default, pixels);
        var uint8 = new JsonArray(pixels.Select(p => (JsonNode)(byte)p).ToArray());
        JsonElement fromPng = await InferAsync("mnist", V2Wire.Json(V2Wire.Request(V2Wire.Input("BYTES", [1, 1], V2Wire.Base64(Png("photo-4.png"))))));

        JsonElement fromPixels = await InferAsync("mnist", V2Wire.Json(V2Wire.Request(V2Wire.Input("UINT8", [1, 1, 28, 28], uint8))));

        Assert.Equal(V2Wire.Data(fromPng.GetProperty("outputs")[0]), V2Wire.Data(fromPixels.GetProperty("outputs")[0]));
    }

    [Fact]
    public async Task Binary_fp32_input_and_binary_output_carry_the_numbers_of_the_json_form()
    {
        float[] instances = [.. Instance(2), .. Instance(3)];
        JsonElement json = await InferAsync("mnist", V2Wire.Json(V2Wire.Request(V2Wire.Input("FP32", [2, 1, 28, 28], V2Wire.Floats(instances)))));
        var header = new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject { ["name"] = "input", ["datatype"] = "FP32", ["shape"] = new JsonArray(2, 1, 28, 28), ["parameters"] = new JsonObject { ["binary_data_size"] = instances.Length * 4 } }),
            ["outputs"] = new JsonArray(new JsonObject { ["name"] = "output", ["parameters"] = new JsonObject { ["binary_data"] = true } }),
        };

        using HttpResponseMessage response = await _client.PostAsync("/v2/models/mnist/infer", V2Wire.Binary(header, V2Wire.Bytes(instances)));
        (JsonElement head, byte[] binary) = await V2Wire.ReadAsync(response);

        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(int.Parse(response.Headers.GetValues(V2Wire.HeaderLength).Single()) + 80, response.Content.Headers.ContentLength);
        JsonElement output = head.GetProperty("outputs")[0];
        Assert.False(output.TryGetProperty("data", out _));
        Assert.Equal(80, output.GetProperty("parameters").GetProperty("binary_data_size").GetInt32());
        Assert.Equal(80, binary.Length);
        Assert.Equal(V2Wire.Data(json.GetProperty("outputs")[0]), System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(binary).ToArray());
    }

    [Fact]
    public async Task Binary_bytes_input_holds_length_prefixed_pngs()
    {
        float[][] expected = await V1ProbabilitiesAsync("mnist", Multipart("photo-0.png", "photo-6.webp"));
        byte[] images = V2Wire.LengthPrefixed(Png("photo-0.png"), Png("photo-6.webp"));
        var header = new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject { ["name"] = "input", ["datatype"] = "BYTES", ["shape"] = new JsonArray(2), ["parameters"] = new JsonObject { ["binary_data_size"] = images.Length } }),
        };

        JsonElement response = await InferAsync("mnist", V2Wire.Binary(header, images));

        Assert.Equal(expected.SelectMany(p => p), V2Wire.Data(response.GetProperty("outputs")[0]));
    }

    private static MultipartFormDataContent Multipart(params string[] names)
    {
        var form = new MultipartFormDataContent();
        foreach (string name in names) form.Add(new ByteArrayContent(Png(name)), "file", name);
        return form;
    }

    [Fact]
    public async Task Classification_returns_the_top_k_as_value_index_label_strings()
    {
        byte[] boot = File.ReadAllBytes(Path.Combine(Fixtures.Models, "fashion-mnist", "samples", "ankle-boot.png"));
        var raw = new ByteArrayContent(boot);
        raw.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using HttpResponseMessage v1 = await _client.PostAsync("/v1/models/fashion-mnist/predict?top_k=3", raw);
        JsonElement top = JsonDocument.Parse(await v1.Content.ReadAsStringAsync()).RootElement.GetProperty("predictions")[0].GetProperty("top");
        string[] expected = top.EnumerateArray()
            .Select(t => $"{t.GetProperty("probability").GetSingle().ToString(System.Globalization.CultureInfo.InvariantCulture)}:{t.GetProperty("index").GetInt32()}:{t.GetProperty("label").GetString()}").ToArray();
        JsonObject request = V2Wire.Request(V2Wire.Input("BYTES", [1], V2Wire.Base64(boot)));
        request["outputs"] = new JsonArray(new JsonObject { ["name"] = "output", ["parameters"] = new JsonObject { ["classification"] = 3 } });

        JsonElement output = (await InferAsync("fashion-mnist", V2Wire.Json(request))).GetProperty("outputs")[0];

        Assert.Equal("BYTES", output.GetProperty("datatype").GetString());
        Assert.Equal([1, 3], output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal(expected, output.GetProperty("data").EnumerateArray().Select(s => s.GetString()));
        Assert.EndsWith(":9:Ankle boot", expected[0]);
    }

    [Fact]
    public async Task A_binary_classification_output_is_length_prefixed_strings()
    {
        JsonObject request = V2Wire.Request(V2Wire.Input("FP32", [1, 1, 28, 28], V2Wire.Floats(Instance(4))));
        request["outputs"] = new JsonArray(new JsonObject { ["name"] = "output", ["parameters"] = new JsonObject { ["classification"] = 2 } });
        string[] expected = (await InferAsync("mnist", V2Wire.Json(request))).GetProperty("outputs")[0].GetProperty("data").EnumerateArray().Select(s => s.GetString()!).ToArray();
        request["outputs"]![0]!["parameters"]!["binary_data"] = true;

        using HttpResponseMessage response = await _client.PostAsync("/v2/models/mnist/infer", V2Wire.Json(request));
        (JsonElement head, byte[] binary) = await V2Wire.ReadAsync(response);

        Assert.Equal(binary.Length, head.GetProperty("outputs")[0].GetProperty("parameters").GetProperty("binary_data_size").GetInt32());
        Assert.Equal(V2Wire.LengthPrefixed(expected.Select(Encoding.UTF8.GetBytes).ToArray()), binary);
    }

    [Fact]
    public async Task The_request_id_is_echoed_with_the_served_version()
    {
        JsonObject request = V2Wire.Request(V2Wire.Input("FP32", [1, 1, 28, 28], V2Wire.Floats(Instance(5))));
        request["id"] = "request-42";

        using HttpResponseMessage response = await _client.PostAsync("/v2/models/mnist/versions/1/infer", V2Wire.Json(request));
        JsonElement body = (await V2Wire.ReadAsync(response)).Json;

        Assert.Equal("request-42", body.GetProperty("id").GetString());
        Assert.Equal("1", body.GetProperty("model_version").GetString());
    }

    [Fact]
    public async Task Binary_data_output_on_the_request_makes_every_output_binary()
    {
        JsonObject request = V2Wire.Request(V2Wire.Input("FP32", [1, 1, 28, 28], V2Wire.Floats(Instance(6))));
        float[] expected = V2Wire.Data((await InferAsync("mnist", V2Wire.Json(request))).GetProperty("outputs")[0]);
        request["parameters"] = new JsonObject { ["binary_data_output"] = true };

        using HttpResponseMessage response = await _client.PostAsync("/v2/models/mnist/infer", V2Wire.Json(request));
        (JsonElement head, byte[] binary) = await V2Wire.ReadAsync(response);

        Assert.Equal(40, head.GetProperty("outputs")[0].GetProperty("parameters").GetProperty("binary_data_size").GetInt32());
        Assert.Equal(expected, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(binary).ToArray());
    }
}
