using CnnService.Models;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CnnService.Tests.Support;

/// <summary>
/// The service in memory. Serves the shipped models and keeps train-job records in a private temp
/// folder (deleted on dispose) unless a test passes its own <c>Models:Root</c> or <c>Jobs:Root</c>;
/// the settings a test passes win over appsettings.json.
/// </summary>
public sealed class ServiceFactory(IDictionary<string, string?>? settings = null) : WebApplicationFactory<Program>
{
    private readonly TempFolder _jobs = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Models:Root", Fixtures.Models);
        builder.UseSetting("Jobs:Root", _jobs.Root);
        builder.UseSetting("Serilog:MinimumLevel:Default", "Warning");
        builder.UseSetting("Grpc:Port", "0");  // off unless a test asks: parallel hosts on a real Kestrel would fight over 8081
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

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _jobs.Dispose();
    }
}
