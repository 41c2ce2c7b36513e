using System.Net;
using System.Text.Json.Nodes;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

/// <summary>v2 infer keeps /v1's limits: a body over Limits:MaxBodyBytes and more images than Limits:MaxImagesPerRequest are 413 {"error"}.</summary>
public sealed class V2LimitsTests
{
    /// <summary>Mid-grey images: 784 values of 0.5, about 3 KB of JSON each.</summary>
    private static JsonObject Request(int images) =>
        V2Wire.Request(V2Wire.Input("FP32", [images, 1, 28, 28], V2Wire.Floats(Enumerable.Repeat(0.5f, images * 784).ToArray())));

    [Fact]
    public async Task A_body_over_the_limit_is_413_with_an_error_object()
    {
        await using var factory = new ServiceFactory(new Dictionary<string, string?> { ["Limits:MaxBodyBytes"] = "2048" });
        HttpClient client = await factory.ReadyClientAsync();

        using HttpResponseMessage response = await client.PostAsync("/v2/models/mnist/infer", V2Wire.Json(Request(1)));

        Assert.Contains("2,048 bytes", await V2Wire.ErrorAsync(response, HttpStatusCode.RequestEntityTooLarge));
    }

    [Fact]
    public async Task More_images_than_allowed_per_request_is_413_with_an_error_object()
    {
        await using var factory = new ServiceFactory(new Dictionary<string, string?> { ["Limits:MaxImagesPerRequest"] = "2" });
        HttpClient client = await factory.ReadyClientAsync();

        using HttpResponseMessage response = await client.PostAsync("/v2/models/mnist/infer", V2Wire.Json(Request(3)));

        Assert.Contains("at most 2 images", await V2Wire.ErrorAsync(response, HttpStatusCode.RequestEntityTooLarge));
    }
}
