using System.Text.Json.Nodes;
using CnnService.Batching;
using CnnService.Engine.Runtime;

namespace CnnService.Models;

/// <summary>
/// One loaded, warmed-up version of a model: immutable apart from its lease count. The repository holds
/// one lease; each request holds another while it runs. When the repository retires the version (a newer
/// one took its place, or its directory went away) it drops its lease, and the last request to finish
/// stops the batcher, so nothing is released under a request and nothing lingers after the last one.
/// </summary>
public sealed class ModelVersion
{
    private int _leases = 1;
    private int _retired;

    public ModelVersion(string name, int version, string directory, Model model, string weightsSha256, DynamicBatcher batcher)
    {
        Name = name;
        Version = version;
        VersionText = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Directory = directory;
        Model = model;
        WeightsSha256 = weightsSha256;
        Batcher = batcher;
        LoadedAt = DateTimeOffset.UtcNow;
    }

    public string Name { get; }
    public int Version { get; }
    /// <summary>The version as the protocols and metric labels write it.</summary>
    public string VersionText { get; }
    public string Directory { get; }
    public Model Model { get; }
    public string WeightsSha256 { get; }
    public DynamicBatcher Batcher { get; }
    public DateTimeOffset LoadedAt { get; }

    /// <summary>True once the repository has dropped its lease: no new request gets this version.</summary>
    public bool IsRetired => Volatile.Read(ref _retired) == 1;

    /// <summary>True once retired and every request has finished: the batcher is stopped.</summary>
    public bool IsReleased => Volatile.Read(ref _leases) == 0;

    /// <summary>Takes a lease unless the version is already released (then the caller looks again).</summary>
    public bool TryAcquire()
    {
        while (true)
        {
            int leases = Volatile.Read(ref _leases);
            if (leases == 0) return false;
            if (Interlocked.CompareExchange(ref _leases, leases + 1, leases) == leases) return true;
        }
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _leases) == 0) Batcher.Complete();
    }

    /// <summary>Drops the repository's own lease when the version stops being served; only the first call counts.</summary>
    internal void Retire()
    {
        if (Interlocked.Exchange(ref _retired, 1) == 0) Release();
    }

    public JsonObject? Metrics => Model.Spec.Metrics;
}
