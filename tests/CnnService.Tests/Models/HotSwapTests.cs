using System.Net;
using System.Text;
using System.Text.Json;
using CnnService.Models;
using CnnService.Tests.Support;

namespace CnnService.Tests.Models;

/// <summary>New versions appear on disk and are served without a restart; old ones go once unused.</summary>
public sealed class HotSwapTests : IDisposable
{
    private readonly TempModels _models = new();

    public void Dispose() => _models.Dispose();

    private ServiceFactory Service(int maxVersions = 2) => new(new Dictionary<string, string?>
    {
        ["Models:Root"] = _models.Root,
        ["Models:PollSeconds"] = "0.2",
        ["Models:MaxVersions"] = maxVersions.ToString(System.Globalization.CultureInfo.InvariantCulture),
    });

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        // Two minutes only bound a hang: a loaded 2-core machine can take seconds to load and warm a version.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (!condition() && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.True(condition(), $"Timed out waiting until {what}.");
    }

    [Fact]
    public async Task A_new_version_directory_becomes_the_default_without_a_restart()
    {
        _models.Add("digits", 1);
        await using ServiceFactory factory = Service();
        HttpClient client = await factory.ReadyClientAsync();

        _models.Add("digits", 2, "mnist", 2);
        await UntilAsync(() => factory.Repository.Models["digits"].Default?.Version == 2, "version 2 is the default");

        using var content = new StringContent(MnistSamples.InstancesBody(0), Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await client.PostAsync("/v1/models/digits/predict", content);
        Assert.Equal(2, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task A_broken_new_version_is_skipped_and_the_old_one_keeps_serving()
    {
        _models.Add("digits", 1);
        await using ServiceFactory factory = Service();
        HttpClient client = await factory.ReadyClientAsync();

        string broken = Path.Combine(_models.Root, "digits", ".2.partial");
        Directory.CreateDirectory(broken);
        File.Copy(Path.Combine(Fixtures.Models, "mnist", "1", "model.json"), Path.Combine(broken, "model.json"));
        File.WriteAllBytes(Path.Combine(broken, "weights.safetensors"), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        Directory.Move(broken, Path.Combine(_models.Root, "digits", "2"));
        await UntilAsync(() => factory.Repository.Models["digits"].Failed.ContainsKey(2), "version 2 is recorded as failed");

        Assert.Equal(1, factory.Repository.Models["digits"].Default?.Version);
        string list = await client.GetStringAsync("/v1/models");
        Assert.Contains("\"failed\"", list);
        using var content = new StringContent(MnistSamples.InstancesBody(0), Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await client.PostAsync("/v1/models/digits/predict", content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_superseded_version_is_released_only_after_its_last_request()
    {
        _models.Add("digits", 1);
        await using ServiceFactory factory = Service(maxVersions: 1);
        await factory.ReadyClientAsync();
        Assert.True(factory.Repository.TryAcquire("digits", null, out ModelLease inFlight, out _));

        _models.Add("digits", 2);
        // The repository publishes version 2 first and retires version 1 a few statements later: wait for the retirement itself.
        await UntilAsync(() => inFlight.Version.IsRetired, "version 1 is retired");

        Assert.Equal(2, factory.Repository.Models["digits"].Default?.Version);
        Assert.False(factory.Repository.Models["digits"].Loaded.ContainsKey(1));
        Assert.False(inFlight.Version.IsReleased);
        await inFlight.Version.Batcher.SubmitAsync(new float[28 * 28], 1); // the in-flight request still finishes on version 1
        inFlight.Dispose();
        Assert.True(inFlight.Version.IsReleased);
        await inFlight.Version.Batcher.Completion.WaitAsync(TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task Swapped_out_versions_are_garbage_collected_so_memory_does_not_grow()
    {
        _models.Add("digits", 1);
        await using ServiceFactory factory = Service(maxVersions: 1);
        await factory.ReadyClientAsync();
        var released = new List<WeakReference>();
        for (int version = 2; version <= 4; version++)
        {
            released.Add(WeakModel(factory.Repository));
            _models.Add("digits", version);
            int expected = version;
            await UntilAsync(() => factory.Repository.Models["digits"].Default?.Version == expected, $"version {expected} is the default");
        }

        // The batchers' loops end asynchronously once their queues complete; collect until they have.
        for (int attempt = 0; attempt < 100 && released.Any(weak => weak.IsAlive); attempt++)
        {
            await Task.Delay(50);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
        }

        Assert.All(released, weak => Assert.False(weak.IsAlive));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference WeakModel(ModelRepository repository) => new(repository.Models["digits"].Default!.Model);

    [Fact]
    public async Task A_deleted_version_stops_being_served()
    {
        _models.Add("digits", 1);
        _models.Add("digits", 2);
        await using ServiceFactory factory = Service();
        await factory.ReadyClientAsync();

        Directory.Delete(Path.Combine(_models.Root, "digits", "2"), recursive: true);
        await UntilAsync(() => factory.Repository.Models["digits"].Default?.Version == 1, "version 1 is the default again");
    }

    [Fact]
    public async Task Publishing_without_promotion_keeps_the_old_default_across_restarts()
    {
        _models.Add("digits", 1);
        await using (ServiceFactory factory = Service())
        {
            await factory.ReadyClientAsync();
            _models.Add("digits", 2);
            await factory.Repository.PublishAsync("digits", 2, promote: false, CancellationToken.None);

            Assert.Equal(1, factory.Repository.Models["digits"].Default?.Version);
            Assert.True(factory.Repository.Models["digits"].Loaded.ContainsKey(2));
        }

        await using ServiceFactory restarted = Service();
        await restarted.ReadyClientAsync();
        Assert.Equal(1, restarted.Repository.Models["digits"].Default?.Version);
    }

    [Fact]
    public async Task Publishing_with_promotion_makes_the_version_the_default()
    {
        _models.Add("digits", 1);
        _models.Add("digits", 2);
        await using ServiceFactory factory = Service();
        await factory.ReadyClientAsync();
        await factory.Repository.PublishAsync("digits", 2, promote: false, CancellationToken.None); // pins 2, the default already
        _models.Add("digits", 3);

        await factory.Repository.PublishAsync("digits", 3, promote: true, CancellationToken.None);

        Assert.Equal(3, factory.Repository.Models["digits"].Default?.Version);
        Assert.False(File.Exists(Path.Combine(_models.Root, "digits", ModelDirectory.ServingFile)));
    }

    [Fact]
    public async Task Sixteen_clients_predicting_through_three_swaps_see_no_failure()
    {
        _models.Add("digits", 1);
        await using ServiceFactory factory = Service(maxVersions: 1);
        HttpClient client = await factory.ReadyClientAsync();
        string body = MnistSamples.InstancesBody(0, 1);
        using var stop = new CancellationTokenSource();
        int failures = 0, requests = 0;
        var versionsSeen = new HashSet<int>();

        async Task ClientAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                using var content = new StringContent(body, Encoding.UTF8, "application/json");
                using HttpResponseMessage response = await client.PostAsync("/v1/models/digits/predict", content);
                Interlocked.Increment(ref requests);
                if (response.StatusCode != HttpStatusCode.OK) Interlocked.Increment(ref failures);
                else
                {
                    int version = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("version").GetInt32();
                    lock (versionsSeen) versionsSeen.Add(version);
                }
            }
        }

        Task[] clients = Enumerable.Range(0, 16).Select(_ => Task.Run(ClientAsync)).ToArray();
        for (int version = 2; version <= 4; version++)
        {
            _models.Add("digits", version, "mnist", version % 2 + 1);
            int expected = version;
            await UntilAsync(() => factory.Repository.Models["digits"].Default?.Version == expected, $"version {expected} is the default");
            await Task.Delay(200);
        }

        // Under load, every request in flight may have started before the last swap: wait for one that did not.
        await UntilAsync(() => { lock (versionsSeen) return versionsSeen.Contains(4); }, "a client is answered by version 4");
        stop.Cancel();
        await Task.WhenAll(clients);
        Assert.Equal(0, failures);
        Assert.True(requests > 16);
        Assert.Contains(4, versionsSeen);
    }
}
