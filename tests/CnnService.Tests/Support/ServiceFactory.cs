using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace CnnService.Tests.Support;

/// <summary>The service in memory, configured by the settings a test passes (they win over appsettings.json).</summary>
public sealed class ServiceFactory(IDictionary<string, string?>? settings = null) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach ((string key, string? value) in settings ?? new Dictionary<string, string?>())
            builder.UseSetting(key, value);
    }
}
