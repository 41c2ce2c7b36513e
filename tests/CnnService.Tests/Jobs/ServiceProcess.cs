using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CnnService.Jobs;
using CnnService.Security;
using CnnService.Tests.Support;

namespace CnnService.Tests.Jobs;

/// <summary>
/// The real service as a child process (<c>dotnet CnnService.dll</c> from the test's output), on a free
/// loopback port, with its models, job records and checkpoints under a test's folder, the fixtures as its
/// dataset root, one training thread and the API key: what a crash test kills with SIGKILL. Starting a
/// second one on the same folder is a restart. Every line it prints is kept, to wait for and to show on failure.
/// </summary>
public sealed partial class ServiceProcess : IAsyncDisposable
{
    /// <summary>Bounds a hang only: the machine is shared and busy, so nothing here is a measure of speed.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _lock = new();
    private readonly List<(Regex Pattern, TaskCompletionSource<Match> Seen)> _waiters = [];

    private ServiceProcess(TempFolder folder, IEnumerable<(string Key, string Value)> settings)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = folder.Root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "CnnService.dll"));
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0", ["DOTNET_ENVIRONMENT"] = "Production", ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Models__Root"] = Directory.CreateDirectory(folder.Combine("models")).FullName, ["Jobs__Root"] = folder.Combine("jobs"),
            ["Jobs__Threads"] = "1", ["Jobs__ProgressIntervalMilliseconds"] = "0", ["Datasets__Roots__0"] = Fixtures.Root,
            ["Auth__ApiKey"] = JobsHost.ApiKey, ["Logs__Json"] = "false",
            ["Grpc__Port"] = "0", // no gRPC listener: parallel services would contend for 8081, and its line is not the REST address
        };
        foreach ((string key, string value) in settings) environment[key] = value;
        foreach ((string key, string value) in environment) start.Environment[key] = value;
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Heard(e.Data);
        _process.ErrorDataReceived += (_, e) => Heard(e.Data);
        JobsRoot = folder.Combine("jobs");
    }

    public string JobsRoot { get; }
    public HttpClient Client { get; } = new();

    public string Output
    {
        get { lock (_lock) return _output.ToString(); }
    }

    public string Checkpoint(string id) => Path.Combine(JobsRoot, "checkpoints", id + ".ckpt");

    /// <summary>Starts the service on <paramref name="folder"/> and waits until it listens.</summary>
    public static async Task<ServiceProcess> StartAsync(TempFolder folder, params (string Key, string Value)[] settings)
    {
        var service = new ServiceProcess(folder, settings);
        Task<Match> listening = service.WaitForLineAsync(ListeningLine());
        service._process.Start();
        service._process.BeginOutputReadLine();
        service._process.BeginErrorReadLine();
        Match url = await service.Bounded(listening, "the service to listen");
        service.Client.BaseAddress = new Uri(url.Groups[1].Value);
        service.Client.DefaultRequestHeaders.Add(ApiKeyFilter.HeaderName, JobsHost.ApiKey);
        return service;
    }

    /// <summary>The first line, past or future, matching <paramref name="pattern"/>.</summary>
    public Task<Match> WaitForLineAsync(Regex pattern)
    {
        lock (_lock)
        {
            foreach (string line in _output.ToString().Split('\n'))
            {
                if (pattern.Match(line) is { Success: true } match) return Task.FromResult(match);
            }

            var seen = new TaskCompletionSource<Match>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((pattern, seen));
            return seen.Task;
        }
    }

    public async Task<TrainJob> CreateAsync(JsonObject body)
    {
        using HttpResponseMessage response = await Client.PostAsJsonAsync("/v1/train-jobs", body);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<TrainJob>(JobsHost.Json))!;
    }

    public async Task<TrainJob> GetAsync(string id) => (await Client.GetFromJsonAsync<TrainJob>($"/v1/train-jobs/{id}", JobsHost.Json))!;

    /// <summary>Polls the job until <paramref name="done"/> holds; only a hang times out.</summary>
    public async Task<TrainJob> WaitForAsync(string id, Func<TrainJob, bool> done, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            TrainJob job = await GetAsync(id);
            if (done(job)) return job;
            if (clock.Elapsed > Patience) throw new TimeoutException($"Waited {Patience} for {what}; job {id} is {job.State.Name()} ({job.Error}).\n{Output}");
            await Task.Delay(20);
        }
    }

    /// <summary>Waits for <paramref name="condition"/> on the file system (a checkpoint's content, say); only a hang times out.</summary>
    public async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (_process.HasExited) throw new InvalidOperationException($"The service exited ({_process.ExitCode}) while waiting for {what}.\n{Output}");
            if (clock.Elapsed > Patience) throw new TimeoutException($"Waited {Patience} for {what}.\n{Output}");
            await Task.Delay(10);
        }
    }

    /// <summary>SIGKILL: no shutdown, no last checkpoint, no last record; what a crash or the OOM killer does.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as a deploy or <c>docker stop</c> sends it: the service shuts down cleanly; waits until it has exited.</summary>
    public async Task StopAsync()
    {
        using (Process kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
        await _process.WaitForExitAsync().WaitAsync(Patience);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited) await KillAsync();
        _process.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    private async Task<T> Bounded<T>(Task<T> task, string what)
    {
        Task exited = _process.HasExited ? Task.CompletedTask : _process.WaitForExitAsync();
        Task first = await Task.WhenAny(task, exited, Task.Delay(Patience));
        if (first == task) return await task;
        throw new InvalidOperationException($"No sign of {what}: the service {(first == exited ? "exited" : "is silent")}.\n{Output}");
    }

    private void Heard(string? line)
    {
        if (line is null) return;
        lock (_lock)
        {
            _output.AppendLine(line);
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Pattern.Match(line) is not { Success: true } match) continue;
                _waiters[i].Seen.TrySetResult(match);
                _waiters.RemoveAt(i);
            }
        }
    }

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningLine();
}
