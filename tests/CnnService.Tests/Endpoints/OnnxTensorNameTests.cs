using System.Net;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using CnnService.Protocols.Grpc;
using CnnService.Tests.Support;
using Google.Protobuf;
using Grpc.Core;

namespace CnnService.Tests.Endpoints;

/// <summary>
/// An ONNX model shows v2 and gRPC clients the tensor names it was exported with (torch's input_names and
/// output_names), and requests must use them, as Triton requires: a client written for the model works unchanged.
/// TF Serving shows and takes its input name too; its output stays "probabilities", which is what it answers.
/// </summary>
public sealed class OnnxTensorNameTests(NamedOnnxModelsServer fixture) : IClassFixture<NamedOnnxModelsServer>
{
    private readonly HttpClient _http = fixture.Server.Http;
    private readonly GRPCInferenceService.GRPCInferenceServiceClient _grpc = fixture.Server.Client;

    private static string Tensor(JsonElement tensor) =>
        $"{tensor.GetProperty("name").GetString()} {tensor.GetProperty("datatype").GetString()} [{string.Join(", ", tensor.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()))}]";

    private async Task<HttpResponseMessage> V2InferAsync(string model, JsonObject request) =>
        await _http.PostAsync($"/v2/models/{model}/infer", V2Wire.Json(request));

    /// <summary>The engine runs the import in its own kernels: torch's logits to float rounding, not bit for bit.</summary>
    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * Math.Max(1f, Math.Abs(expected[i])), $"logit {i}: expected {expected[i]}, got {actual[i]}");
    }

    /// <summary>A [1, 6, 6] instance as TF Serving's nested C x H x W array.</summary>
    private static JsonArray Nested(float[] image) =>
        new(new JsonArray(Enumerable.Range(0, 6).Select(y => (JsonNode)new JsonArray(image.Skip(y * 6).Take(6).Select(v => (JsonNode)v).ToArray())).ToArray()));

    private static float[] Softmax(float[] logits)
    {
        double max = logits.Max(), sum = logits.Sum(v => Math.Exp(v - max));
        return logits.Select(v => (float)(Math.Exp(v - max) / sum)).ToArray();
    }

    private static ModelInferRequest RawGrpcRequest(string model, string inputName, float[] input) => new()
    {
        ModelName = model,
        Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = inputName, Datatype = "FP32", Shape = { 1, 1, 6, 6 } } },
        RawInputContents = { ByteString.CopyFrom(MemoryMarshal.AsBytes(input.AsSpan())) },
    };

    [Fact]
    public async Task V2_metadata_shows_the_input_and_output_names_torch_exported()
    {
        JsonElement body = JsonDocument.Parse(await _http.GetStringAsync("/v2/models/hf")).RootElement;

        Assert.Equal("cnnservice_onnx", body.GetProperty("platform").GetString());
        Assert.Equal(["pixel_values FP32 [-1, 1, 6, 6]"], body.GetProperty("inputs").EnumerateArray().Select(Tensor));
        Assert.Equal(["logits FP32 [-1, 3]"], body.GetProperty("outputs").EnumerateArray().Select(Tensor));
    }

    [Fact]
    public async Task V2_metadata_of_a_file_exported_with_the_batch_fixed_at_1_shows_its_names_and_a_free_batch()
    {
        JsonElement body = JsonDocument.Parse(await _http.GetStringAsync("/v2/models/keras")).RootElement;

        Assert.Equal(["input_1 FP32 [-1, 1, 6, 6]"], body.GetProperty("inputs").EnumerateArray().Select(Tensor));
        Assert.Equal(["dense_1 FP32 [-1, 3]"], body.GetProperty("outputs").EnumerateArray().Select(Tensor));
    }

    [Fact]
    public async Task V2_infer_by_the_real_input_name_answers_torchs_logits_under_the_real_output_name()
    {
        (float[] input, float[] logits) = NamedOnnxModelsServer.Expected("torch_named.onnx");

        using HttpResponseMessage response = await V2InferAsync("hf", V2Wire.Request(V2Wire.Input("FP32", [1, 1, 6, 6], V2Wire.Floats(input), "pixel_values")));

        JsonElement output = Assert.Single((await V2Wire.ReadAsync(response)).Json.GetProperty("outputs").EnumerateArray());
        Assert.Equal("logits", output.GetProperty("name").GetString());
        Assert.Equal([1, 3], output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        AssertClose(logits, V2Wire.Data(output));
    }

    [Fact]
    public async Task V2_infer_of_a_batch_of_2_on_a_file_exported_with_the_batch_fixed_at_1_answers_each_image()
    {
        (float[] input, float[] logits) = NamedOnnxModelsServer.Expected("torch_named_batch1.onnx");

        using HttpResponseMessage response = await V2InferAsync("keras", V2Wire.Request(V2Wire.Input("FP32", [2, 1, 6, 6], V2Wire.Floats([.. input, .. input]), "input_1")));

        JsonElement output = Assert.Single((await V2Wire.ReadAsync(response)).Json.GetProperty("outputs").EnumerateArray());
        Assert.Equal([2, 3], output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        AssertClose([.. logits, .. logits], V2Wire.Data(output));
    }

    [Fact]
    public async Task V2_infer_by_the_default_name_input_is_400_naming_the_models_input()
    {
        (float[] input, _) = NamedOnnxModelsServer.Expected("torch_named.onnx");

        using HttpResponseMessage response = await V2InferAsync("hf", V2Wire.Request(V2Wire.Input("FP32", [1, 1, 6, 6], V2Wire.Floats(input), "input")));

        Assert.Contains("no input \"input\"; its input is \"pixel_values\"", await V2Wire.ErrorAsync(response, HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task V2_infer_asking_for_the_output_by_the_real_name_answers_it()
    {
        (float[] input, float[] logits) = NamedOnnxModelsServer.Expected("torch_named_batch1.onnx");
        JsonObject request = V2Wire.Request(V2Wire.Input("FP32", [1, 1, 6, 6], V2Wire.Floats(input), "input_1"));
        request["outputs"] = new JsonArray(new JsonObject { ["name"] = "dense_1" });

        using HttpResponseMessage response = await V2InferAsync("keras", request);

        JsonElement output = Assert.Single((await V2Wire.ReadAsync(response)).Json.GetProperty("outputs").EnumerateArray());
        Assert.Equal("dense_1", output.GetProperty("name").GetString());
        AssertClose(logits, V2Wire.Data(output));
    }

    [Fact]
    public async Task V2_infer_asking_for_the_output_by_the_default_name_output_is_400_naming_the_models_output()
    {
        (float[] input, _) = NamedOnnxModelsServer.Expected("torch_named.onnx");
        JsonObject request = V2Wire.Request(V2Wire.Input("FP32", [1, 1, 6, 6], V2Wire.Floats(input), "pixel_values"));
        request["outputs"] = new JsonArray(new JsonObject { ["name"] = "output" });

        using HttpResponseMessage response = await V2InferAsync("hf", request);

        Assert.Contains("no output \"output\"; its output is \"logits\"", await V2Wire.ErrorAsync(response, HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task Grpc_ModelMetadata_shows_the_input_and_output_names_torch_exported()
    {
        ModelMetadataResponse metadata = await _grpc.ModelMetadataAsync(new ModelMetadataRequest { Name = "hf" });

        ModelMetadataResponse.Types.TensorMetadata input = Assert.Single(metadata.Inputs);
        Assert.Equal(("pixel_values", "FP32"), (input.Name, input.Datatype));
        Assert.Equal([-1L, 1, 6, 6], input.Shape);
        ModelMetadataResponse.Types.TensorMetadata output = Assert.Single(metadata.Outputs);
        Assert.Equal(("logits", "FP32"), (output.Name, output.Datatype));
        Assert.Equal([-1L, 3], output.Shape);
    }

    [Fact]
    public async Task Grpc_infer_by_the_real_input_name_answers_torchs_logits_under_the_real_output_name()
    {
        (float[] input, float[] logits) = NamedOnnxModelsServer.Expected("torch_named.onnx");

        ModelInferResponse response = await _grpc.ModelInferAsync(RawGrpcRequest("hf", "pixel_values", input));

        ModelInferResponse.Types.InferOutputTensor output = Assert.Single(response.Outputs);
        Assert.Equal(("logits", "FP32"), (output.Name, output.Datatype));
        AssertClose(logits, MemoryMarshal.Cast<byte, float>(Assert.Single(response.RawOutputContents).Span).ToArray());
    }

    [Fact]
    public async Task Grpc_infer_by_another_input_name_is_INVALID_ARGUMENT_naming_the_models_input()
    {
        (float[] input, _) = NamedOnnxModelsServer.Expected("torch_named_batch1.onnx");

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await _grpc.ModelInferAsync(RawGrpcRequest("keras", "pixel_values", input)));

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains("no input \"pixel_values\"; its input is \"input_1\"", refused.Status.Detail);
    }

    [Fact]
    public async Task Grpc_infer_asking_for_the_output_by_another_name_is_INVALID_ARGUMENT_naming_the_models_output()
    {
        (float[] input, _) = NamedOnnxModelsServer.Expected("torch_named.onnx");
        ModelInferRequest request = RawGrpcRequest("hf", "pixel_values", input);
        request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "output" });

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await _grpc.ModelInferAsync(request));

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains("no output \"output\"; its output is \"logits\"", refused.Status.Detail);
    }

    [Fact]
    public async Task TfServing_metadata_names_the_input_as_the_model_does_and_the_output_probabilities()
    {
        JsonElement body = JsonDocument.Parse(await _http.GetStringAsync("/v1/models/hf/metadata")).RootElement;

        JsonElement signature = body.GetProperty("metadata").GetProperty("signature_def").GetProperty("signature_def").GetProperty("serving_default");
        Assert.Equal(["pixel_values"], signature.GetProperty("inputs").EnumerateObject().Select(p => p.Name));
        Assert.Equal("pixel_values", signature.GetProperty("inputs").GetProperty("pixel_values").GetProperty("name").GetString());
        Assert.Equal(["probabilities"], signature.GetProperty("outputs").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task TfServing_columnar_predict_by_the_real_input_name_answers_the_probabilities_of_torchs_logits()
    {
        (float[] input, float[] logits) = NamedOnnxModelsServer.Expected("torch_named.onnx");
        var body = new JsonObject { ["inputs"] = new JsonObject { ["pixel_values"] = new JsonArray(Nested(input)) } };

        using HttpResponseMessage response = await _http.PostAsync("/v1/models/hf:predict", V2Wire.Json(body));

        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        JsonElement outputs = JsonDocument.Parse(text).RootElement.GetProperty("outputs");
        AssertClose(Softmax(logits), outputs[0].EnumerateArray().Select(v => v.GetSingle()).ToArray());
    }

    [Fact]
    public async Task TfServing_predict_naming_the_input_image_is_400_naming_the_models_input()
    {
        (float[] input, _) = NamedOnnxModelsServer.Expected("torch_named_batch1.onnx");
        var body = new JsonObject { ["instances"] = new JsonArray(new JsonObject { ["image"] = Nested(input) }) };

        using HttpResponseMessage response = await _http.PostAsync("/v1/models/keras:predict", V2Wire.Json(body));

        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
        Assert.Contains("has no named input \"image\"; the model's only input is \"input_1\"", JsonDocument.Parse(text).RootElement.GetProperty("error").GetString());
    }
}
