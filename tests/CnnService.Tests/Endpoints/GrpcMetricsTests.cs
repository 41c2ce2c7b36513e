using CnnService.Protocols.Grpc;
using CnnService.Tests.Support;
using Google.Protobuf;
using Grpc.Core;

namespace CnnService.Tests.Endpoints;

/// <summary>gRPC calls are counted by their gRPC status, which their HTTP/2 response (200 whatever the status) does not show.</summary>
public sealed class GrpcMetricsTests(GrpcServer server) : IClassFixture<GrpcServer>
{
    private static ModelInferRequest Zeros(string model) => new()
    {
        ModelName = model,
        Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = "input", Datatype = "FP32", Shape = { 1, 1, 28, 28 } } },
        RawInputContents = { ByteString.CopyFrom(new byte[28 * 28 * sizeof(float)]) },
    };

    private static (string, string)[] Calls(string method, StatusCode status) =>
        [("rpc_system", "grpc"), ("rpc_service", "inference.GRPCInferenceService"), ("rpc_method", method), ("rpc_grpc_status_code", ((int)status).ToString())];

    [Fact]
    public async Task A_refused_call_is_counted_by_its_grpc_status()
    {
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => server.Client.ModelInferAsync(Zeros("no-such-model")).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);

        Scrape metrics = await Scrape.ReadAsync(server.Http);

        Assert.Equal(1, metrics.Sum("rpc_server_call_duration_seconds_count", Calls("ModelInfer", StatusCode.NotFound)));
        Assert.DoesNotContain("no-such-model", metrics.Text);
    }

    [Fact]
    public async Task A_served_inference_is_counted_ok_and_as_a_grpc_inference_of_its_model()
    {
        await server.Client.ModelInferAsync(Zeros("fashion-mnist")).ResponseAsync;

        Scrape metrics = await Scrape.ReadAsync(server.Http);

        Assert.Equal(1, metrics.Sum("rpc_server_call_duration_seconds_count", Calls("ModelInfer", StatusCode.OK)));
        Assert.Equal(1, metrics.Sum("cnn_inference_requests_total", ("model", "fashion-mnist"), ("protocol", "grpc"), ("outcome", "success")));
    }

    [Fact]
    public async Task A_call_refused_for_its_input_is_a_failed_inference_of_its_model()
    {
        ModelInferRequest request = Zeros("mnist");
        request.Inputs[0].Shape[1] = 3;  // mnist takes one channel
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => server.Client.ModelInferAsync(request).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);

        Scrape metrics = await Scrape.ReadAsync(server.Http);

        Assert.Equal(1, metrics.Sum("rpc_server_call_duration_seconds_count", Calls("ModelInfer", StatusCode.InvalidArgument)));
        Assert.Equal(1, metrics.Sum("cnn_inference_requests_total", ("model", "mnist"), ("protocol", "grpc"), ("outcome", "failure")));
    }
}
