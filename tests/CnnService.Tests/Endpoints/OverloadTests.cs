using System.Net;
using System.Text;
using System.Text.Json;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

/// <summary>
/// Saturation is shed, not queued: with the mnist batcher held before its forward pass, requests fill the
/// queue up to Batching:MaxQueuedImages and the next one is answered 429 at once.
/// </summary>
public sealed class OverloadTests
{
    private static readonly Dictionary<string, string?> Settings = new() { ["Batching:MaxQueuedImages"] = "2", ["Batching:RetryAfterSeconds"] = "3" };

    private static Task<HttpResponseMessage> PredictAsync(HttpClient client, int digit, CancellationToken cancellationToken = default) =>
        client.PostAsync("/v1/models/mnist/predict", new StringContent(MnistSamples.InstancesBody(digit), Encoding.UTF8, "application/json"), cancellationToken);

    [Fact]
    public async Task A_request_past_the_queue_limit_gets_429_with_retry_after_and_the_queued_ones_succeed()
    {
        await using var factory = new ServiceFactory(Settings);
        HttpClient client = await factory.ReadyClientAsync();
        var gate = new BatcherGate(factory, "mnist");
        Task<HttpResponseMessage> running = PredictAsync(client, 0);
        await gate.Held;
        Task<HttpResponseMessage>[] queued = [PredictAsync(client, 1), PredictAsync(client, 2)];
        await gate.QueuedAsync(2);

        using HttpResponseMessage refused = await PredictAsync(client, 3);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(3), refused.Headers.RetryAfter?.Delta);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(429, JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetInt32());
        gate.Release();
        foreach (HttpResponseMessage response in await Task.WhenAll([running, .. queued]))
            using (response) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, (await Scrape.ReadAsync(client)).Sum("cnn_requests_shed_total", ("model", "mnist"), ("protocol", "v1")));
    }

    [Fact]
    public async Task A_queued_request_whose_client_gives_up_leaves_the_queue_and_never_runs()
    {
        await using var factory = new ServiceFactory(Settings);
        HttpClient client = await factory.ReadyClientAsync();
        var gate = new BatcherGate(factory, "mnist");
        Task<HttpResponseMessage> running = PredictAsync(client, 0);
        await gate.Held;
        using var giveUp = new CancellationTokenSource();
        Task<HttpResponseMessage> abandoned = PredictAsync(client, 1, giveUp.Token);
        await gate.QueuedAsync(1);

        giveUp.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        await gate.QueuedAsync(0);
        gate.Release();
        using (HttpResponseMessage response = await running) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, (await Scrape.ReadAsync(client)).Sum("cnn_batch_size_sum", ("model", "mnist")));
    }
}
