using System.Net;
using CnnService.Tests.Support;

namespace CnnService.Tests;

public sealed class HealthEndpointsTests
{
    [Fact]
    public async Task Live_answers_ok()
    {
        await using var factory = new ServiceFactory();
        using HttpResponseMessage response = await factory.CreateClient().GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
