using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text.Json;
using CnnService.Engine.Data;
using CnnService.Engine.Format;
using CnnService.Imaging;
using CnnService.Models;
using CnnService.Protocols.Grpc;
using CnnService.Tests.Support;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Reflection.V1Alpha;

namespace CnnService.Tests.Endpoints;

/// <summary>
/// <c>inference.GRPCInferenceService</c> through a real <c>Grpc.Net.Client</c> channel to the service's own gRPC port on a
/// real Kestrel: health, metadata, inference in every input form (giving what <c>/v1/.../predict</c> gives), and the
/// gRPC status of each refusal.
/// </summary>
public sealed class GrpcInferenceTests(GrpcServer server) : IClassFixture<GrpcServer>
{
    private readonly GRPCInferenceService.GRPCInferenceServiceClient _client = server.Client;

    private static byte[] Sample(string name) => File.ReadAllBytes(Path.Combine(Fixtures.Models, "mnist", "samples", name));

    private InputSpec MnistSpec()
    {
        Assert.True(server.Factory.Repository.TryAcquire("mnist", null, out ModelLease lease, out _));
        using (lease) return lease.Version.Model.Spec.Input;
    }

    /// <summary>The PNG's pixels as the model sees them before normalisation (0..255).</summary>
    private float[] Pixels(string sample)
    {
        var pixels = new float[28 * 28];
        ImagePreprocessor.ToPixels(Sample(sample), MnistSpec(), ImageLimits.Default, pixels);
        return pixels;
    }

    /// <summary>/v1 predict's probabilities for the PNG.</summary>
    private async Task<float[]> V1ProbabilitiesAsync(string sample)
    {
        var content = new ByteArrayContent(Sample(sample));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using HttpResponseMessage response = await server.Http.PostAsync("/v1/models/mnist/predict", content);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("predictions")[0].GetProperty("probabilities").EnumerateArray().Select(v => v.GetSingle()).ToArray();
    }

    private static ModelInferRequest.Types.InferInputTensor Input(string datatype, params long[] shape) =>
        new() { Name = "input", Datatype = datatype, Shape = { shape } };

    private static ModelInferRequest RawRequest(string datatype, long[] shape, byte[] raw) =>
        new() { ModelName = "mnist", Inputs = { Input(datatype, shape) }, RawInputContents = { ByteString.CopyFrom(raw) } };

    private async Task<RpcException> RefusedAsync(ModelInferRequest request) =>
        await Assert.ThrowsAsync<RpcException>(async () => await _client.ModelInferAsync(request));

    [Fact]
    public async Task ServerLive_is_true()
    {
        ServerLiveResponse live = await _client.ServerLiveAsync(new ServerLiveRequest());

        Assert.True(live.Live);
    }

    [Fact]
    public async Task ServerReady_is_true_once_every_model_is_loaded_and_warm()
    {
        ServerReadyResponse ready = await _client.ServerReadyAsync(new ServerReadyRequest());

        Assert.True(ready.Ready);
    }

    [Fact]
    public async Task ServerMetadata_names_the_server_and_its_extensions()
    {
        ServerMetadataResponse metadata = await _client.ServerMetadataAsync(new ServerMetadataRequest());

        Assert.Equal("cnnservice", metadata.Name);
        Assert.Contains("classification", metadata.Extensions);
    }

    [Fact]
    public async Task ModelReady_is_true_for_a_served_version_and_false_for_an_unknown_model()
    {
        Assert.True((await _client.ModelReadyAsync(new ModelReadyRequest { Name = "mnist", Version = "1" })).Ready);
        Assert.False((await _client.ModelReadyAsync(new ModelReadyRequest { Name = "no-such-model" })).Ready);
    }

    [Fact]
    public async Task ModelMetadata_gives_versions_platform_and_tensors_with_minus_one_for_the_batch()
    {
        ModelMetadataResponse metadata = await _client.ModelMetadataAsync(new ModelMetadataRequest { Name = "mnist" });

        Assert.Equal("mnist", metadata.Name);
        Assert.Equal(["1", "2"], metadata.Versions.Order());
        Assert.StartsWith("cnnservice_", metadata.Platform);
        ModelMetadataResponse.Types.TensorMetadata input = Assert.Single(metadata.Inputs);
        Assert.Equal(("input", "FP32"), (input.Name, input.Datatype));
        Assert.Equal([-1L, 1, 28, 28], input.Shape);
        ModelMetadataResponse.Types.TensorMetadata output = Assert.Single(metadata.Outputs);
        Assert.Equal(("output", "FP32"), (output.Name, output.Datatype));
        Assert.Equal([-1L, 10], output.Shape);
    }

    [Fact]
    public async Task Raw_fp32_infer_answers_raw_with_the_probabilities_v1_predict_gives_the_same_digit_png()
    {
        float[] expected = await V1ProbabilitiesAsync("digit-7.png");
        float[] input = Pixels("digit-7.png");
        InputNormalization.Apply(MnistSpec(), input, input);

        ModelInferResponse response = await _client.ModelInferAsync(RawRequest("FP32", [1, 1, 28, 28], MemoryMarshal.AsBytes(input.AsSpan()).ToArray()));

        Assert.Equal(("mnist", "2"), (response.ModelName, response.ModelVersion));
        ModelInferResponse.Types.InferOutputTensor output = Assert.Single(response.Outputs);
        Assert.Equal(("output", "FP32"), (output.Name, output.Datatype));
        Assert.Equal([1L, 10], output.Shape);
        Assert.Null(output.Contents);
        Assert.Equal(expected, MemoryMarshal.Cast<byte, float>(Assert.Single(response.RawOutputContents).Span).ToArray());
    }

    [Fact]
    public async Task A_png_in_bytes_contents_gets_typed_fp32_contents_with_v1_predicts_probabilities()
    {
        float[] expected = await V1ProbabilitiesAsync("digit-3.png");
        ModelInferRequest.Types.InferInputTensor input = Input("BYTES", 1);
        input.Contents = new InferTensorContents { BytesContents = { ByteString.CopyFrom(Sample("digit-3.png")) } };

        ModelInferResponse response = await _client.ModelInferAsync(new ModelInferRequest { ModelName = "mnist", Id = "req-3", Inputs = { input } });

        Assert.Equal("req-3", response.Id);
        Assert.Empty(response.RawOutputContents);
        Assert.Equal(expected, Assert.Single(response.Outputs).Contents.Fp32Contents);
    }

    [Fact]
    public async Task Uint8_pixels_in_uint_contents_get_the_output_of_the_png_they_came_from()
    {
        float[] expected = await V1ProbabilitiesAsync("digit-4.png");
        ModelInferRequest.Types.InferInputTensor input = Input("UINT8", 1, 1, 28, 28);
        input.Contents = new InferTensorContents();
        foreach (float pixel in Pixels("digit-4.png")) input.Contents.UintContents.Add((uint)pixel);

        ModelInferResponse response = await _client.ModelInferAsync(new ModelInferRequest { ModelName = "mnist", Inputs = { input } });

        Assert.Equal(expected, Assert.Single(response.Outputs).Contents.Fp32Contents);
    }

    [Fact]
    public async Task Classification_on_the_requested_output_returns_score_index_label_strings_best_first()
    {
        ModelInferRequest.Types.InferInputTensor input = Input("BYTES", 1);
        input.Contents = new InferTensorContents { BytesContents = { ByteString.CopyFrom(Sample("digit-9.png")) } };
        var output = new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "output", Parameters = { ["classification"] = new InferParameter { Int64Param = 3 } } };

        ModelInferResponse response = await _client.ModelInferAsync(new ModelInferRequest { ModelName = "mnist", Inputs = { input }, Outputs = { output } });

        ModelInferResponse.Types.InferOutputTensor classes = Assert.Single(response.Outputs);
        Assert.Equal(("output", "BYTES"), (classes.Name, classes.Datatype));
        Assert.Equal([1L, 3], classes.Shape);
        string[][] fields = classes.Contents.BytesContents.Select(b => b.ToStringUtf8().Split(':')).ToArray();
        Assert.Equal(3, fields.Length);
        Assert.Equal(["9", "9"], fields[0][1..]);  // index 9, labelled "9": the digit in the picture
        float[] scores = fields.Select(f => float.Parse(f[0], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(scores.OrderDescending(), scores);
    }

    [Fact]
    public async Task Classification_of_a_raw_request_comes_back_as_length_prefixed_raw_bytes()
    {
        byte[] png = Sample("digit-1.png");
        byte[] raw = [.. BitConverter.GetBytes(png.Length), .. png];
        ModelInferRequest request = RawRequest("BYTES", [1], raw);
        request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "output", Parameters = { ["classification"] = new InferParameter { Int64Param = 1 } } });

        ModelInferResponse response = await _client.ModelInferAsync(request);

        ReadOnlySpan<byte> bytes = Assert.Single(response.RawOutputContents).Span;
        int length = BitConverter.ToInt32(bytes[..4]);
        Assert.Equal(4 + length, bytes.Length);
        Assert.EndsWith(":1:1", System.Text.Encoding.UTF8.GetString(bytes[4..]));
    }

    [Fact]
    public async Task An_unknown_model_is_NOT_FOUND()
    {
        ModelInferRequest request = RawRequest("FP32", [1, 1, 28, 28], new byte[784 * 4]);
        request.ModelName = "no-such-model";

        RpcException refused = await RefusedAsync(request);

        Assert.Equal(StatusCode.NotFound, refused.StatusCode);
        Assert.Contains("no-such-model", refused.Status.Detail);
    }

    [Fact]
    public async Task An_unknown_version_is_NOT_FOUND()
    {
        ModelInferRequest request = RawRequest("FP32", [1, 1, 28, 28], new byte[784 * 4]);
        request.ModelVersion = "99";

        RpcException refused = await RefusedAsync(request);

        Assert.Equal(StatusCode.NotFound, refused.StatusCode);
        Assert.Contains("99", refused.Status.Detail);
    }

    [Fact]
    public async Task A_shape_that_does_not_fit_the_model_is_INVALID_ARGUMENT_naming_the_input()
    {
        RpcException refused = await RefusedAsync(RawRequest("FP32", [1, 1, 14, 56], new byte[784 * 4]));

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains("Input \"input\"", refused.Status.Detail);
        Assert.Contains("[1, 1, 14, 56]", refused.Status.Detail);
    }

    [Fact]
    public async Task Finite_values_that_overflow_the_network_are_INVALID_ARGUMENT()
    {
        float[] values = new float[784];
        values.AsSpan().Fill(3e38f);

        RpcException refused = await RefusedAsync(RawRequest("FP32", [1, 1, 28, 28], MemoryMarshal.AsBytes(values.AsSpan()).ToArray()));

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains("Image 0 of the request overflows float32", refused.Status.Detail);
    }

    [Fact]
    public async Task A_uint8_value_past_255_is_INVALID_ARGUMENT_naming_the_input_and_element()
    {
        ModelInferRequest.Types.InferInputTensor input = Input("UINT8", 1, 1, 28, 28);
        input.Contents = new InferTensorContents();
        for (int i = 0; i < 784; i++) input.Contents.UintContents.Add(i == 5 ? 256u : 0u);

        RpcException refused = await RefusedAsync(new ModelInferRequest { ModelName = "mnist", Inputs = { input } });

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains("Input \"input\": element 5 (256)", refused.Status.Detail);
    }

    [Fact]
    public async Task Typed_contents_beside_raw_input_contents_are_INVALID_ARGUMENT()
    {
        ModelInferRequest request = RawRequest("FP32", [1, 1, 28, 28], new byte[784 * 4]);
        request.Inputs[0].Contents = new InferTensorContents { Fp32Contents = { 0f } };

        RpcException refused = await RefusedAsync(request);

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains("raw_input_contents", refused.Status.Detail);
    }

    [Fact]
    public async Task More_images_than_a_request_may_hold_is_RESOURCE_EXHAUSTED()
    {
        RpcException refused = await RefusedAsync(RawRequest("FP32", [65, 1, 28, 28], new byte[65 * 784 * 4]));

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("at most 64 images", refused.Status.Detail);
    }

    [Fact]
    public async Task Reflection_lists_the_inference_service()
    {
        var reflection = new ServerReflection.ServerReflectionClient(server.Channel);
        using AsyncDuplexStreamingCall<ServerReflectionRequest, ServerReflectionResponse> call = reflection.ServerReflectionInfo();

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));

        Assert.Contains("inference.GRPCInferenceService", call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name));
    }
}
