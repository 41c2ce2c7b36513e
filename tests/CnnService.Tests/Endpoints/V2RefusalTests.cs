using System.Net;
using System.Text.Json.Nodes;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

/// <summary>
/// v2 refusals are the protocol's <c>{"error": "..."}</c> with 400 or 404, never a 500, and name what is wrong; hostile
/// declarations (a lying <c>binary_data_size</c>, a shape that overflows or declares a billion elements) are checked
/// against the data really sent before anything of their size is allocated.
/// </summary>
public sealed class V2RefusalTests(ShippedModelsService service) : IClassFixture<ShippedModelsService>
{
    private readonly HttpClient _client = service.Client;

    private static JsonArray Zeros(int count) => V2Wire.Floats(new float[count]);

    private async Task<string> RefusedAsync(HttpContent content, HttpStatusCode status = HttpStatusCode.BadRequest, string path = "/v2/models/mnist/infer")
    {
        using HttpResponseMessage response = await _client.PostAsync(path, content);
        return await V2Wire.ErrorAsync(response, status);
    }

    private static JsonObject Header(JsonObject input) => new() { ["inputs"] = new JsonArray(input) };

    private static JsonObject BinaryInput(string datatype, JsonArray shape, long size) =>
        new() { ["name"] = "input", ["datatype"] = datatype, ["shape"] = shape, ["parameters"] = new JsonObject { ["binary_data_size"] = size } };

    [Fact]
    public async Task An_unknown_model_is_404_with_an_error_object()
    {
        string error = await RefusedAsync(V2Wire.Json(V2Wire.Request(V2Wire.Input("FP32", [1, 1, 28, 28], Zeros(784)))), HttpStatusCode.NotFound, "/v2/models/no-such-model/infer");

        Assert.Contains("no-such-model", error);
    }

    [Fact]
    public async Task An_unserved_version_is_404_for_metadata_ready_and_infer()
    {
        foreach (string path in (string[])["/v2/models/mnist/versions/99", "/v2/models/mnist/versions/99/ready"])
        {
            using HttpResponseMessage response = await _client.GetAsync(path);
            Assert.Contains("no served version 99", await V2Wire.ErrorAsync(response, HttpStatusCode.NotFound));
        }

        Assert.Contains("no served version 99", await RefusedAsync(V2Wire.Json(V2Wire.Request(V2Wire.Input("FP32", [1, 1, 28, 28], Zeros(784)))), HttpStatusCode.NotFound, "/v2/models/mnist/versions/99/infer"));
    }

    [Fact]
    public async Task A_shape_that_does_not_fit_the_model_is_400_naming_the_input_and_the_shape_it_takes()
    {
        string error = await RefusedAsync(V2Wire.Json(V2Wire.Request(V2Wire.Input("FP32", [1, 28, 28], Zeros(784)))));

        Assert.Contains("Input \"input\"", error);
        Assert.Contains("[-1, 1, 28, 28]", error);
    }

    [Fact]
    public async Task Finite_values_that_overflow_the_network_are_400_naming_the_image()
    {
        float[] values = new float[2 * 784];
        values.AsSpan(784).Fill(3e38f); // image 1: finite, and far past anything a normalised input holds

        string error = await RefusedAsync(V2Wire.Json(V2Wire.Request(V2Wire.Input("FP32", [2, 1, 28, 28], V2Wire.Floats(values)))));

        Assert.Contains("Image 1 of the request overflows float32", error);
        Assert.Contains("3E+38", error);
    }

    [Fact]
    public async Task An_unknown_datatype_is_400_naming_the_input()
    {
        string error = await RefusedAsync(V2Wire.Json(V2Wire.Request(V2Wire.Input("FLOAT32", [1, 1, 28, 28], Zeros(784)))));

        Assert.Contains("Input \"input\": unknown datatype \"FLOAT32\"", error);
    }

    [Fact]
    public async Task An_input_the_model_does_not_have_is_400_naming_the_one_it_has()
    {
        string error = await RefusedAsync(V2Wire.Json(V2Wire.Request(V2Wire.Input("FP32", [1, 1, 28, 28], Zeros(784), name: "images"))));

        Assert.Contains("no input \"images\"; its input is \"input\"", error);
    }

    [Fact]
    public async Task An_output_the_model_does_not_have_is_400()
    {
        JsonObject request = V2Wire.Request(V2Wire.Input("FP32", [1, 1, 28, 28], Zeros(784)));
        request["outputs"] = new JsonArray(new JsonObject { ["name"] = "logits" });

        Assert.Contains("no output \"logits\"", await RefusedAsync(V2Wire.Json(request)));
    }

    [Fact]
    public async Task Data_that_does_not_hold_what_the_shape_declares_is_400()
    {
        string error = await RefusedAsync(V2Wire.Json(V2Wire.Request(V2Wire.Input("FP32", [2, 1, 28, 28], Zeros(784)))));

        Assert.Contains("declares 1568 element(s); the data holds 784", error);
    }

    [Fact]
    public async Task A_uint8_value_out_of_range_is_400_naming_the_element()
    {
        JsonArray data = Zeros(784);
        data[5] = 256;

        Assert.Contains("element 5 (256) is not a UINT8 value", await RefusedAsync(V2Wire.Json(V2Wire.Request(V2Wire.Input("UINT8", [1, 1, 28, 28], data)))));
    }

    [Fact]
    public async Task A_broken_png_is_400_naming_the_element()
    {
        byte[] truncated = File.ReadAllBytes(Fixtures.Image("truncated.png"));

        string error = await RefusedAsync(V2Wire.Json(V2Wire.Request(V2Wire.Input("BYTES", [2], V2Wire.Base64(File.ReadAllBytes(Fixtures.Image("photo-0.png")), truncated)))));

        Assert.StartsWith("input \"input\" element 1", error);
    }

    [Fact]
    public async Task A_binary_data_size_past_the_end_of_the_body_is_400()
    {
        string error = await RefusedAsync(V2Wire.Binary(Header(BinaryInput("FP32", new JsonArray(1, 1, 28, 28), 1L << 40)), new byte[784 * 4]));

        Assert.Contains("runs past the body", error);
    }

    [Fact]
    public async Task A_binary_data_size_that_disagrees_with_the_shape_is_400()
    {
        string error = await RefusedAsync(V2Wire.Binary(Header(BinaryInput("FP32", new JsonArray(1, 1, 28, 28), 8)), new byte[8]));

        Assert.Contains("declares 784 element(s); the data holds 2", error);
    }

    [Fact]
    public async Task A_bytes_element_whose_length_runs_past_its_tensor_is_400()
    {
        byte[] lying = [0xFF, 0xFF, 0xFF, 0x7F, 1, 2, 3];

        string error = await RefusedAsync(V2Wire.Binary(Header(BinaryInput("BYTES", new JsonArray(1), lying.Length)), lying));

        Assert.Contains("element 0 declares 2147483647 bytes; only 3 follow", error);
    }

    [Fact]
    public async Task A_shape_declaring_a_billion_elements_without_them_is_400()
    {
        string error = await RefusedAsync(V2Wire.Binary(Header(BinaryInput("UINT8", new JsonArray(1_000_000_000, 1, 1, 1), 784)), new byte[784]));

        Assert.Contains("declares 1000000000 element(s); the data holds 784", error);
    }

    [Fact]
    public async Task A_shape_whose_element_count_overflows_is_400()
    {
        string error = await RefusedAsync(V2Wire.Json(V2Wire.Request(V2Wire.Input("FP32", [long.MaxValue, 1, 28, 28], Zeros(784)))));

        Assert.Contains("more elements than a 64-bit count holds", error);
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_400()
    {
        Assert.Contains("not valid JSON", await RefusedAsync(new StringContent("{\"inputs\": [", System.Text.Encoding.UTF8, "application/json")));
    }

    [Fact]
    public async Task An_inference_header_length_longer_than_the_body_is_400()
    {
        var content = new StringContent("{\"inputs\": []}");
        content.Headers.Add(V2Wire.HeaderLength, "4096");

        Assert.Contains("Inference-Header-Content-Length", await RefusedAsync(content));
    }

    [Fact]
    public async Task Binary_bytes_that_no_input_claims_are_400()
    {
        string error = await RefusedAsync(V2Wire.Binary(Header(BinaryInput("FP32", new JsonArray(1, 1, 28, 28), 784 * 4)), new byte[784 * 4 + 3]));

        Assert.Contains("3 byte(s) after the JSON header belong to no input", error);
    }
}
