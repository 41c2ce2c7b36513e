using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using CnnService.Engine.Runtime;
using CnnService.Models.Management;

namespace CnnService.Models;

/// <summary>
/// The management API's side of the repository: unload and load a model, pin or delete a version, serve an
/// uploaded one. Every change goes through the same lock as the watcher's scans, so a scan never undoes one.
/// An unloaded model stays unloaded (in memory, not on disk: its folder is untouched and a restart serves it
/// again) until it is loaded: scans leave it alone while its files stay where they are.
/// </summary>
public sealed partial class ModelRepository
{
    private ImmutableHashSet<string> _unloaded = ImmutableHashSet.Create<string>(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Name, int Version), bool> _loading = new();

    public bool IsUnloaded(string name) => Volatile.Read(ref _unloaded).Contains(name);

    /// <summary>Every version on disk or served, by model and version, with its state; with <paramref name="readyOnly"/> only READY ones.</summary>
    public IReadOnlyList<RepositoryIndexEntry> Index(bool readyOnly)
    {
        ImmutableSortedDictionary<string, ServedModel> served = Models;
        var names = new SortedSet<string>(ModelDirectory.Names(Root), StringComparer.Ordinal);
        names.UnionWith(served.Keys);
        var entries = new List<RepositoryIndexEntry>();
        foreach (string name in names)
        {
            ServedModel? model = served.GetValueOrDefault(name);
            var versions = new SortedSet<int>(ModelDirectory.Versions(Root, name).Keys);
            if (model is not null) versions.UnionWith(model.Loaded.Keys);
            foreach (int version in versions)
            {
                (string state, string reason) = StateOf(name, model, version);
                if (!readyOnly || state == RepositoryIndexEntry.Ready)
                    entries.Add(new RepositoryIndexEntry(name, version.ToString(CultureInfo.InvariantCulture), state, reason));
            }
        }

        return entries;
    }

    private (string State, string Reason) StateOf(string name, ServedModel? model, int version)
    {
        if (model is not null && model.Loaded.ContainsKey(version)) return (RepositoryIndexEntry.Ready, "");
        if (_loading.ContainsKey((name, version))) return (RepositoryIndexEntry.Loading, "");
        if (IsUnloaded(name)) return (RepositoryIndexEntry.Unavailable, "unloaded");
        if (model is not null && model.Failed.TryGetValue(version, out VersionFailure? failure)) return (RepositoryIndexEntry.Unavailable, failure.Error);
        if (!IsReady) return (RepositoryIndexEntry.Loading, "");
        return (RepositoryIndexEntry.Unavailable,
            $"not loaded: only the newest {_options.MaxVersions} version(s) (Models:MaxVersions) and the default version are served");
    }

    /// <summary>Serves the model's versions again after an unload (or retries its folder now); fails when none loads.</summary>
    public async Task LoadModelAsync(string name, CancellationToken cancellationToken)
    {
        await _changes.WaitAsync(cancellationToken);
        try
        {
            if (!Known(name)) throw RepositoryException.NotFound($"There is no model \"{name}\" in the model repository.");
            ImmutableInterlocked.Update(ref _unloaded, set => set.Remove(name));
            ServedModel after = Reconcile(name, CancellationToken.None);
            if (after.Loaded.IsEmpty)
                throw RepositoryException.Invalid($"Model \"{name}\" has no version that loads: " + (after.Failed.IsEmpty
                    ? "no version folder holds a model."
                    : string.Join("; ", after.Failed.Select(f => $"version {f.Key}: {f.Value.Error}"))));
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>Stops serving every version of the model (requests in flight finish); its files stay, and scans leave it unloaded.</summary>
    public async Task UnloadModelAsync(string name, CancellationToken cancellationToken)
    {
        await _changes.WaitAsync(cancellationToken);
        try
        {
            if (!Known(name)) throw RepositoryException.NotFound($"There is no model \"{name}\" in the model repository.");
            ImmutableInterlocked.Update(ref _unloaded, set => set.Add(name));
            Reconcile(name, CancellationToken.None);
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>Pins <paramref name="version"/> as the default in serving.json (null removes the pin: the newest is the default); the default it serves now.</summary>
    public async Task<int?> SetDefaultAsync(string name, int? version, CancellationToken cancellationToken)
    {
        await _changes.WaitAsync(cancellationToken);
        try
        {
            SortedDictionary<int, string> onDisk = ModelDirectory.Versions(Root, name);
            if (onDisk.Count == 0) throw RepositoryException.NotFound($"There is no model \"{name}\" in the model repository.");
            if (IsUnloaded(name)) throw RepositoryException.Conflict($"Model \"{name}\" is unloaded: load it (POST /v2/repository/models/{name}/load) first.");
            if (version is int v && !onDisk.ContainsKey(v))
                throw RepositoryException.NotFound($"Model \"{name}\" has no version {v}; on disk: {string.Join(", ", onDisk.Keys)}.");

            int? before = ModelDirectory.ReadPin(Root, name);
            ModelDirectory.WritePin(Root, name, version);
            ServedModel after = Reconcile(name, CancellationToken.None);
            if (version is int wanted && !after.Loaded.ContainsKey(wanted))
            {
                string why = after.Failed.TryGetValue(wanted, out VersionFailure? failure) ? failure.Error : "it is not loaded";
                ModelDirectory.WritePin(Root, name, before);
                Reconcile(name, CancellationToken.None);
                throw RepositoryException.Invalid($"Model \"{name}\" version {wanted} cannot be the default: {why}");
            }

            return after.Default?.Version;
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>
    /// Stops serving a version that is not the default and deletes its folder: it is renamed away first (one step the
    /// watcher sees), retired (requests in flight finish on it), then removed.
    /// </summary>
    public async Task DeleteVersionAsync(string name, int version, CancellationToken cancellationToken)
    {
        string doomed;
        await _changes.WaitAsync(cancellationToken);
        try
        {
            SortedDictionary<int, string> onDisk = ModelDirectory.Versions(Root, name);
            if (!onDisk.TryGetValue(version, out string? dir))
                throw RepositoryException.NotFound($"Model \"{name}\" has no version {version} in the model repository.");
            if (onDisk.Count == 1)
                throw RepositoryException.Conflict($"Version {version} is the only version of model \"{name}\"; a model keeps at least one.");
            int? pin = ModelDirectory.ReadPin(Root, name);
            int defaultVersion = Models.GetValueOrDefault(name)?.Default?.Version ?? pin ?? onDisk.Keys.Last();
            if (version == defaultVersion || version == pin)
                throw RepositoryException.Conflict($"Version {version} is the default version of model \"{name}\": promote another (PUT /v1/models/{name}/default) first.");

            doomed = Path.Combine(Root, name, $".{version}.deleting-{Guid.NewGuid():N}");
            Directory.Move(dir, doomed);
            Reconcile(name, CancellationToken.None);
        }
        finally
        {
            _changes.Release();
        }

        try
        {
            Directory.Delete(doomed, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Model {Model} version {Version} is no longer served, but {Folder} could not be deleted: {Error}", name, version, doomed, e.Message);
        }
    }

    /// <summary>
    /// Loads and warms up the complete version folder <paramref name="staging"/> (hidden, in the model's own folder, so the
    /// rename below stays on one file system), then renames it to the next version number and serves it: nothing is visible
    /// before it has loaded, and it never serves cold. <paramref name="promote"/> as for train jobs: true makes it the default,
    /// false keeps the current default. Returns the version. A model that does not load is a <see cref="RepositoryException"/>
    /// and the folder is left for the caller to delete.
    /// </summary>
    public async Task<int> PublishUploadAsync(string name, string staging, bool promote, CancellationToken cancellationToken)
    {
        if (IsUnloaded(name)) throw UnloadedConflict(name); // before the work of loading; checked again under the lock
        if (!ModelLoader.HasModel(staging))
            throw RepositoryException.Invalid("The upload holds no model: it needs model.json and weights.safetensors, or model.onnx (with optional config.json and labels.txt).");
        Model model;
        string sha;
        try
        {
            (model, sha) = LoadAndWarm(staging);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The loader names the file it refused; the staging path means nothing to the caller.
            throw RepositoryException.Invalid("The model does not load: " + e.Message.Replace(staging + Path.DirectorySeparatorChar, "", StringComparison.Ordinal).Replace(staging, "upload", StringComparison.Ordinal));
        }

        await _changes.WaitAsync(cancellationToken);
        try
        {
            if (IsUnloaded(name)) throw UnloadedConflict(name);
            int? keepDefault = Models.GetValueOrDefault(name)?.Default?.Version;
            (int version, string target) = MoveToNextVersion(name, staging);
            // As train jobs publish: promoted, the newest needs no pin; not promoted, the old default is pinned.
            ModelDirectory.WritePin(Root, name, promote ? null : keepDefault ?? ModelDirectory.ReadPin(Root, name));
            Reconcile(name, CancellationToken.None, Serve(name, version, target, model, sha));
            _logger.LogInformation("Model {Model} version {Version} uploaded, loaded and warmed up", name, version);
            return version;
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>Renames the folder to one more than the highest version; a train job taking that number first makes it try the next.</summary>
    private (int Version, string Directory) MoveToNextVersion(string name, string staging)
    {
        for (int attempt = 1; ; attempt++)
        {
            int version = Jobs.ModelVersions.Latest(Root, name) + 1;
            string target = Jobs.ModelVersions.DirectoryOf(Root, name, version);
            try
            {
                Directory.Move(staging, target);
                return (version, target);
            }
            catch (IOException) when (attempt < 10 && Directory.Exists(target))
            {
            }
        }
    }

    private static RepositoryException UnloadedConflict(string name) =>
        RepositoryException.Conflict($"Model \"{name}\" is unloaded: load it (POST /v2/repository/models/{name}/load) before uploading a version.");

    private bool Known(string name) =>
        ModelDirectory.IsValidName(name) && (Models.ContainsKey(name) || IsUnloaded(name) || ModelDirectory.Versions(Root, name).Count > 0);
}
