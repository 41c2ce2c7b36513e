using CnnService.Models;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CnnService.Tests.Support;

/// <summary>
/// The service in memory. Serves the shipped models unless a test passes its own <c>Models:Root</c>;
/// the settings a test passes win over appsettings.json.
/// </summary>
public sealed class ServiceFactory(IDictionary<string, string?>? settings = null) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Models:Root", Fixtures.Models);
        builder.UseSetting("Serilog:MinimumLevel:Default", "Warning");
        foreach ((string key, string? value) in settings ?? new Dictionary<string, string?>())
            builder.UseSetting(key, value);
    }

    public ModelRepository Repository => Services.GetRequiredService<ModelRepository>();

    /// <summary>A client once every model on disk is loaded and warmed up.</summary>
    public async Task<HttpClient> ReadyClientAsync()
    {
        HttpClient client = CreateClient();
        await Repository.WhenReady.WaitAsync(TimeSpan.FromSeconds(60));
        return client;
    }
}
