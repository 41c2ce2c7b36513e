using System.Net;
using System.Text;
using System.Text.Json;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

/// <summary>The service on a real Kestrel bound to a loopback port, spoken to over TCP.</summary>
public sealed class KestrelTests
{
    [Fact]
    public async Task Predict_over_a_real_socket_classifies_real_digits()
    {
        await using var factory = new ServiceFactory();
        factory.UseKestrel(0);
        factory.StartServer();
        HttpClient client = await factory.ReadyClientAsync();
        Assert.True(client.BaseAddress!.IsLoopback && client.BaseAddress.Port > 0, client.BaseAddress.ToString());

        using var content = new StringContent(MnistSamples.InstancesBody(0, 1, 2), Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await client.PostAsync("/v1/models/mnist/predict", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement predictions = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("predictions");
        Assert.Equal(new[] { 0, 1, 2 }.Select(MnistSamples.Label), predictions.EnumerateArray().Select(p => p.GetProperty("top")[0].GetProperty("index").GetInt32()));
    }

    [Fact]
    public async Task Kestrels_own_body_limit_answers_413_with_a_problem()
    {
        await using var factory = new ServiceFactory(new Dictionary<string, string?> { ["Limits:MaxBodyBytes"] = "4096" });
        factory.UseKestrel(0);
        factory.StartServer();
        HttpClient client = await factory.ReadyClientAsync();
        using var content = new StreamContent(new MemoryStream(new byte[100_000]));
        content.Headers.ContentType = new("image/png");

        using HttpResponseMessage response = await client.PostAsync("/v1/models/mnist/predict", content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }
}
