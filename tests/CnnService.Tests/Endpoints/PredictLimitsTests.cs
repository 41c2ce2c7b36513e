using System.Net;
using System.Text;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

public sealed class PredictLimitsTests
{
    [Fact]
    public async Task A_body_over_the_limit_is_413_when_its_length_is_declared()
    {
        await using var factory = new ServiceFactory(new Dictionary<string, string?> { ["Limits:MaxBodyBytes"] = "2048" });
        HttpClient client = await factory.ReadyClientAsync();
        using var content = new StringContent(MnistSamples.InstancesBody(0), Encoding.UTF8, "application/json");

        using HttpResponseMessage response = await client.PostAsync("/v1/models/mnist/predict", content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("2,048 bytes", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_streamed_body_over_the_limit_is_413()
    {
        await using var factory = new ServiceFactory(new Dictionary<string, string?> { ["Limits:MaxBodyBytes"] = "2048" });
        HttpClient client = await factory.ReadyClientAsync();
        using var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(MnistSamples.InstancesBody(0))));
        content.Headers.ContentType = new("application/json");
        content.Headers.ContentLength = null;

        using HttpResponseMessage response = await client.PostAsync("/v1/models/mnist/predict", content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task More_images_than_allowed_per_request_is_413()
    {
        await using var factory = new ServiceFactory(new Dictionary<string, string?> { ["Limits:MaxImagesPerRequest"] = "2" });
        HttpClient client = await factory.ReadyClientAsync();
        using var content = new StringContent(MnistSamples.InstancesBody(0, 1, 2), Encoding.UTF8, "application/json");

        using HttpResponseMessage response = await client.PostAsync("/v1/models/mnist/predict", content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("at most 2 images", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_service_stays_healthy_after_bad_requests()
    {
        await using var factory = new ServiceFactory();
        HttpClient client = await factory.ReadyClientAsync();
        var random = new Random(7);
        for (int i = 0; i < 20; i++)
        {
            byte[] junk = new byte[random.Next(0, 4000)];
            random.NextBytes(junk);
            using var content = new ByteArrayContent(junk);
            content.Headers.ContentType = new(i % 2 == 0 ? "application/json" : "image/png");
            using HttpResponseMessage bad = await client.PostAsync("/v1/models/mnist/predict", content);
            Assert.InRange((int)bad.StatusCode, 400, 499);
        }

        using var good = new StringContent(MnistSamples.InstancesBody(0), Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await client.PostAsync("/v1/models/mnist/predict", good);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
