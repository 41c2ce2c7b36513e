using System.Net;
using CnnService.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Configuration;

namespace CnnService.Tests.Security;

/// <summary>The filter alone, where the caller's address can be set (the in-memory test server has none).</summary>
public sealed class ApiKeyFilterTests
{
    private static readonly object Passed = new();

    private static async Task<object?> InvokeAsync(string? configuredKey, IPAddress? remote, string? sentKey = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [ApiKeyFilter.SettingName] = configuredKey }).Build();
        var http = new DefaultHttpContext();
        http.Connection.RemoteIpAddress = remote;
        if (sentKey is not null) http.Request.Headers[ApiKeyFilter.HeaderName] = sentKey;
        return await new ApiKeyFilter(configuration).InvokeAsync(EndpointFilterInvocationContext.Create(http), _ => ValueTask.FromResult<object?>(Passed));
    }

    private static void AssertUnauthorized(object? result) =>
        Assert.Equal(StatusCodes.Status401Unauthorized, Assert.IsType<ProblemHttpResult>(result).StatusCode);

    [Fact]
    public async Task Without_a_key_configured_a_loopback_caller_is_let_in()
    {
        Assert.Same(Passed, await InvokeAsync(null, IPAddress.Loopback));
        Assert.Same(Passed, await InvokeAsync("", IPAddress.IPv6Loopback));
    }

    [Fact]
    public async Task Without_a_key_configured_a_remote_caller_is_refused() => AssertUnauthorized(await InvokeAsync(null, IPAddress.Parse("192.0.2.7")));

    [Fact]
    public async Task Without_a_key_configured_a_caller_with_no_address_is_refused() => AssertUnauthorized(await InvokeAsync(null, null));

    [Fact]
    public async Task With_a_key_configured_the_key_is_needed_even_from_loopback()
    {
        AssertUnauthorized(await InvokeAsync("secret", IPAddress.Loopback));
        AssertUnauthorized(await InvokeAsync("secret", IPAddress.Loopback, "secreT"));
        Assert.Same(Passed, await InvokeAsync("secret", IPAddress.Parse("192.0.2.7"), "secret"));
    }
}
