using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

/// <summary>TensorFlow Serving's routes live under the same limits as /v1 predict, refused in TF Serving's <c>{"error"}</c> shape.</summary>
public sealed class TfServingLimitsTests
{
    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static string ClassifyBody(int digit) =>
        new JsonObject { ["examples"] = new JsonArray(new JsonObject { ["image"] = MnistSamples.Instance(digit, MnistSamples.Spec) }) }.ToJsonString();

    private static async Task<string> ErrorOf(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString()!;
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413()
    {
        await using var factory = new ServiceFactory(new Dictionary<string, string?> { ["Limits:MaxBodyBytes"] = "2048" });
        HttpClient client = await factory.ReadyClientAsync();
        using var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(MnistSamples.InstancesBody(0))));
        content.Headers.ContentType = new("application/json");

        using HttpResponseMessage response = await client.PostAsync("/v1/models/mnist:predict", content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("2,048 bytes", await ErrorOf(response));
    }

    [Fact]
    public async Task More_images_than_allowed_per_request_is_413()
    {
        await using var factory = new ServiceFactory(new Dictionary<string, string?> { ["Limits:MaxImagesPerRequest"] = "2" });
        HttpClient client = await factory.ReadyClientAsync();

        using HttpResponseMessage response = await client.PostAsync("/v1/models/mnist:predict", Json(MnistSamples.InstancesBody(0, 1, 2)));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("at most 2 images", await ErrorOf(response));
    }

    [Fact]
    public async Task A_request_past_the_queue_limit_is_429_with_retry_after_and_counted_as_shed()
    {
        await using var factory = new ServiceFactory(new Dictionary<string, string?> { ["Batching:MaxQueuedImages"] = "1", ["Batching:RetryAfterSeconds"] = "3" });
        HttpClient client = await factory.ReadyClientAsync();
        var gate = new BatcherGate(factory, "mnist");
        Task<HttpResponseMessage> running = client.PostAsync("/v1/models/mnist:predict", Json(MnistSamples.InstancesBody(0)));
        await gate.Held;
        Task<HttpResponseMessage> queued = client.PostAsync("/v1/models/mnist:classify", Json(ClassifyBody(1)));
        await gate.QueuedAsync(1);

        using HttpResponseMessage refused = await client.PostAsync("/v1/models/mnist:predict", Json(MnistSamples.InstancesBody(2)));

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(3), refused.Headers.RetryAfter?.Delta);
        Assert.Contains("busy", await ErrorOf(refused));
        gate.Release();
        foreach (HttpResponseMessage response in await Task.WhenAll(running, queued))
            using (response) Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Equal(1, (await Scrape.ReadAsync(client)).Sum("cnn_requests_shed_total", ("model", "mnist"), ("protocol", "tfserving")));
    }
}
