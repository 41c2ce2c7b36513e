using System.Net;
using System.Text.Json;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

/// <summary><c>/v2/health/ready</c> follows the same checks as <c>/health/ready</c>, answering false with a 4xx as the protocol says.</summary>
public sealed class V2ReadinessTests
{
    [Fact]
    public async Task Ready_is_400_false_while_a_readiness_check_of_health_ready_fails()
    {
        await using var factory = new ServiceFactory(new Dictionary<string, string?> { ["Health:MinFreeDiskMegabytes"] = "1000000000000" });
        HttpClient client = await factory.ReadyClientAsync();

        using HttpResponseMessage v2 = await client.GetAsync("/v2/health/ready");
        using HttpResponseMessage v1 = await client.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.BadRequest, v2.StatusCode);
        Assert.False(JsonDocument.Parse(await v2.Content.ReadAsStringAsync()).RootElement.GetProperty("ready").GetBoolean());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, v1.StatusCode);
    }
}
