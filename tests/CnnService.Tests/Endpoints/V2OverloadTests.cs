using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

/// <summary>v2 infer goes through the same per-version batcher as /v1 predict: it shares batches with it and is shed with 429 like it.</summary>
public sealed class V2OverloadTests
{
    private static readonly Dictionary<string, string?> Settings = new() { ["Batching:MaxQueuedImages"] = "2", ["Batching:RetryAfterSeconds"] = "3" };

    private static Task<HttpResponseMessage> V1Async(HttpClient client, int digit) =>
        client.PostAsync("/v1/models/mnist/predict", new StringContent(MnistSamples.InstancesBody(digit), Encoding.UTF8, "application/json"));

    private static Task<HttpResponseMessage> V2Async(HttpClient client, int digit)
    {
        JsonArray instance = MnistSamples.Instance(digit, MnistSamples.Spec);
        return client.PostAsync("/v2/models/mnist/infer", V2Wire.Json(V2Wire.Request(V2Wire.Input("FP32", [1, 1, 28, 28], new JsonArray(instance)))));
    }

    [Fact]
    public async Task A_v2_request_past_the_queue_limit_gets_429_with_retry_after_and_an_error_object()
    {
        await using var factory = new ServiceFactory(Settings);
        HttpClient client = await factory.ReadyClientAsync();
        var gate = new BatcherGate(factory, "mnist");
        Task<HttpResponseMessage> running = V1Async(client, 0);
        await gate.Held;
        Task<HttpResponseMessage>[] queued = [V2Async(client, 1), V1Async(client, 2)];
        await gate.QueuedAsync(2);

        using HttpResponseMessage refused = await V2Async(client, 3);

        Assert.Contains("busy", await V2Wire.ErrorAsync(refused, HttpStatusCode.TooManyRequests));
        Assert.Equal(TimeSpan.FromSeconds(3), refused.Headers.RetryAfter?.Delta);
        gate.Release();
        foreach (HttpResponseMessage response in await Task.WhenAll([running, .. queued]))
            using (response) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, (await Scrape.ReadAsync(client)).Sum("cnn_requests_shed_total", ("model", "mnist"), ("protocol", "v2")));
    }

    [Fact]
    public async Task A_v2_request_and_a_v1_request_queued_together_run_in_one_batch()
    {
        await using var factory = new ServiceFactory(Settings);
        HttpClient client = await factory.ReadyClientAsync();
        var gate = new BatcherGate(factory, "mnist");
        Task<HttpResponseMessage> running = V1Async(client, 0);
        await gate.Held;
        Task<HttpResponseMessage>[] queued = [V2Async(client, 1), V1Async(client, 2)];
        await gate.QueuedAsync(2);

        gate.Release();

        foreach (HttpResponseMessage response in await Task.WhenAll([running, .. queued]))
            using (response) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Scrape metrics = await Scrape.ReadAsync(client);
        Assert.Equal(2, metrics.Sum("cnn_batch_size_count", ("model", "mnist")));  // the held batch of 1, then the two queued together
        Assert.Equal(3, metrics.Sum("cnn_batch_size_sum", ("model", "mnist")));
    }
}
