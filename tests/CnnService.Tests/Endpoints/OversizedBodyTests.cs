using System.Text.Json;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

/// <summary>
/// A client that writes its whole body before reading (Python's http.client and requests, many SDKs) and
/// sends more than Limits:MaxBodyBytes must read the 413 problem, not find the connection reset under it.
/// </summary>
public sealed class OversizedBodyTests
{
    // Well past what socket buffers absorb, well under the 64 MiB discard ceiling.
    private const int Limit = 8 * 1024 * 1024, Sent = 32 * 1024 * 1024;

    /// <summary>32 MiB of the real digit PNG, over and over.</summary>
    private static byte[] OversizedPng()
    {
        byte[] png = File.ReadAllBytes(Path.Combine(Fixtures.Models, "mnist", "samples", "digit-7.png"));
        var body = new byte[Sent];
        for (int offset = 0; offset < body.Length; offset += png.Length) png.AsSpan(0, Math.Min(png.Length, body.Length - offset)).CopyTo(body.AsSpan(offset));
        return body;
    }

    [Fact]
    public Task A_body_over_the_limit_sent_without_expect_gets_the_413() => AssertAnswered413(chunked: false);

    [Fact]
    public Task A_chunked_body_over_the_limit_sent_without_expect_gets_the_413() => AssertAnswered413(chunked: true);

    private static async Task AssertAnswered413(bool chunked)
    {
        await using var factory = new ServiceFactory(new Dictionary<string, string?> { ["Limits:MaxBodyBytes"] = Limit.ToString() });
        factory.UseKestrel(0);
        factory.StartServer();
        HttpClient client = await factory.ReadyClientAsync();
        using var hang = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        RawHttpClient.Answer answer = await RawHttpClient.SendThenReadAsync(client.BaseAddress!, "/v1/models/mnist/predict", "image/png", OversizedPng(), chunked, hang.Token);

        Assert.Equal(413, answer.Status);
        Assert.StartsWith("application/problem+json", answer.Headers["Content-Type"]);
        JsonElement problem = JsonDocument.Parse(answer.Body).RootElement;
        Assert.Equal(413, problem.GetProperty("status").GetInt32());
        Assert.Contains("8,388,608", problem.GetProperty("detail").GetString());
    }
}
