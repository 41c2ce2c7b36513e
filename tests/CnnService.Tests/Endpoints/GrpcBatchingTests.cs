using System.Text;
using CnnService.Protocols.Grpc;
using CnnService.Tests.Support;
using Google.Protobuf;
using Grpc.Core;

namespace CnnService.Tests.Endpoints;

/// <summary>gRPC inference goes through the same per-version batcher as /v1 predict: it shares batches with it and is shed like it.</summary>
public sealed class GrpcBatchingTests
{
    private static readonly Dictionary<string, string?> Settings = new() { ["Batching:MaxQueuedImages"] = "2", ["Batching:RetryAfterSeconds"] = "3" };

    private static Task<HttpResponseMessage> V1Async(GrpcServer server, int digit) =>
        server.Http.PostAsync("/v1/models/mnist/predict", new StringContent(MnistSamples.InstancesBody(digit), Encoding.UTF8, "application/json"));

    /// <summary>One normalised MNIST test digit as raw FP32.</summary>
    private static Task<ModelInferResponse> GrpcAsync(GrpcServer server, int digit)
    {
        float[] pixels = MnistSamples.Instance(digit, MnistSamples.Spec).AsArray()[0]!.AsArray()
            .SelectMany(row => row!.AsArray().Select(v => v!.GetValue<float>())).ToArray();
        var request = new ModelInferRequest
        {
            ModelName = "mnist",
            Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = "input", Datatype = "FP32", Shape = { 1, 1, 28, 28 } } },
            RawInputContents = { ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(pixels.AsSpan())) },
        };
        return server.Client.ModelInferAsync(request).ResponseAsync;
    }

    [Fact]
    public async Task A_grpc_request_and_a_v1_request_queued_together_run_in_one_batch()
    {
        var server = new GrpcServer(Settings);
        await server.InitializeAsync();
        try
        {
            var gate = new BatcherGate(server.Factory, "mnist");
            Task<HttpResponseMessage> running = V1Async(server, 0);
            await gate.Held;
            Task<ModelInferResponse> grpc = GrpcAsync(server, 1);
            Task<HttpResponseMessage> v1 = V1Async(server, 2);
            await gate.QueuedAsync(2);

            gate.Release();

            foreach (HttpResponseMessage response in await Task.WhenAll(running, v1))
                using (response) Assert.True(response.IsSuccessStatusCode);
            Assert.Single((await grpc).RawOutputContents);
            Scrape metrics = await Scrape.ReadAsync(server.Http);
            Assert.Equal(2, metrics.Sum("cnn_batch_size_count", ("model", "mnist")));  // the held batch of 1, then the two queued together
            Assert.Equal(3, metrics.Sum("cnn_batch_size_sum", ("model", "mnist")));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_grpc_request_past_the_queue_limit_is_RESOURCE_EXHAUSTED()
    {
        var server = new GrpcServer(Settings);
        await server.InitializeAsync();
        try
        {
            var gate = new BatcherGate(server.Factory, "mnist");
            Task<HttpResponseMessage> running = V1Async(server, 0);
            await gate.Held;
            Task<HttpResponseMessage>[] queued = [V1Async(server, 1), V1Async(server, 2)];
            await gate.QueuedAsync(2);

            RpcException refused = await Assert.ThrowsAsync<RpcException>(() => GrpcAsync(server, 3));

            Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
            Assert.Contains("busy", refused.Status.Detail);
            gate.Release();
            foreach (HttpResponseMessage response in await Task.WhenAll([running, .. queued]))
                using (response) Assert.True(response.IsSuccessStatusCode);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_message_past_the_body_limit_is_RESOURCE_EXHAUSTED()
    {
        var server = new GrpcServer(new Dictionary<string, string?> { ["Limits:MaxBodyBytes"] = "65536" });
        await server.InitializeAsync();
        try
        {
            var request = new ModelInferRequest
            {
                ModelName = "mnist",
                Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = "input", Datatype = "FP32", Shape = { 30, 1, 28, 28 } } },
                RawInputContents = { ByteString.CopyFrom(new byte[30 * 784 * 4]) },
            };

            RpcException refused = await Assert.ThrowsAsync<RpcException>(async () => await server.Client.ModelInferAsync(request));

            Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
