using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CnnService.Jobs;
using CnnService.Security;
using CnnService.Tests.Support;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace CnnService.Tests.Jobs;

/// <summary>
/// The service in memory with train jobs under a test's own folder (<c>jobs/</c> for the records and
/// checkpoints, <c>models/</c> for the published versions), the fixtures as the dataset root, the API key configured and sent, a
/// <see cref="TestModelPublisher"/> registered, one training thread, and every progress report streamed.
/// Starting a second host on the same folder is a restart.
/// </summary>
public sealed class JobsHost : IAsyncDisposable
{
    public const string ApiKey = "test-key";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly ServiceFactory _service;

    public JobsHost(TempFolder folder, params (string Key, string? Value)[] settings)
    {
        JobsRoot = folder.Combine("jobs");
        Publisher = new TestModelPublisher(folder.Combine("models"));
        var all = new Dictionary<string, string?>
        {
            ["Jobs:Root"] = JobsRoot, ["Jobs:Threads"] = "1", ["Jobs:ProgressIntervalMilliseconds"] = "0", [ApiKeyFilter.SettingName] = ApiKey,
            ["Logging:LogLevel:Default"] = "Warning", ["Datasets:Roots:0"] = Fixtures.Root,
        };
        foreach ((string key, string? value) in settings) all[key] = value;
        _service = new ServiceFactory(all);
        Factory = _service.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<IModelPublisher>(Publisher)));
        Client = Factory.CreateClient();
        Client.DefaultRequestHeaders.Add(ApiKeyFilter.HeaderName, ApiKey);
    }

    public string JobsRoot { get; }
    public TestModelPublisher Publisher { get; }
    public WebApplicationFactory<Program> Factory { get; }
    public HttpClient Client { get; }

    public Task<HttpResponseMessage> CreateAsync(JsonObject body) => Client.PostAsJsonAsync("/v1/train-jobs", body);

    /// <summary>Creates a job that must be accepted; returns its record.</summary>
    public async Task<TrainJob> StartAsync(JsonObject body)
    {
        using HttpResponseMessage response = await CreateAsync(body);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<TrainJob>(Json))!;
    }

    public async Task<TrainJob> GetAsync(string id) => (await Client.GetFromJsonAsync<TrainJob>($"/v1/train-jobs/{id}", Json))!;

    public Task<HttpResponseMessage> PostAsync(string id, string action) => Client.PostAsync($"/v1/train-jobs/{id}/{action}", null);

    /// <summary>Polls the job until <paramref name="done"/> holds (a generous minute: the machine is shared and busy).</summary>
    public async Task<TrainJob> WaitForAsync(string id, Func<TrainJob, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            TrainJob job = await GetAsync(id);
            if (done(job)) return job;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Job {id} is still {job.State.Name()} (epoch {job.Epoch}, step {job.Step}, error {job.Error}).");
            await Task.Delay(20);
        }
    }

    public Task<TrainJob> WaitForStateAsync(string id, TrainJobState state) => WaitForAsync(id, j => j.State == state || (!j.State.IsLive() && j.State != state && Fail(j, state)));

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Factory.DisposeAsync();
        await _service.DisposeAsync();
    }

    private static bool Fail(TrainJob job, TrainJobState expected) =>
        throw new Xunit.Sdk.XunitException($"Job {job.Id} ended {job.State.Name()}, not {expected.Name()}: {job.Error}");
}
