using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using CnnService.Batching;
using CnnService.Jobs;
using CnnService.Engine.Runtime;
using CnnService.Imaging;
using CnnService.Metrics;
using Microsoft.Extensions.Options;

namespace CnnService.Models;

/// <summary>
/// The models being served. Requests read an immutable snapshot without locking and take a lease on
/// the version they use. Changes (a scan of the root, a published version) are serialised: a new version
/// is loaded and warmed up first, then a new snapshot is swapped in, then versions that fell out of the
/// policy are retired, so a new default never serves cold and a request never loses its version mid-way.
/// </summary>
public sealed partial class ModelRepository : IModelPublisher, IDisposable
{
    private readonly ModelsOptions _options;
    private readonly BatchingOptions _batching;
    private readonly InferenceMetrics _metrics;
    private readonly ILogger<ModelRepository> _logger;
    private readonly SemaphoreSlim _changes = new(1, 1);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ImmutableSortedDictionary<string, ServedModel> _models = ImmutableSortedDictionary.Create<string, ServedModel>(StringComparer.Ordinal);

    public ModelRepository(IOptions<ModelsOptions> options, IOptions<BatchingOptions> batching, InferenceMetrics metrics,
        IHostEnvironment environment, ILogger<ModelRepository> logger)
    {
        _options = options.Value;
        _batching = batching.Value;
        _metrics = metrics;
        _logger = logger;
        Root = Path.GetFullPath(_options.Root, environment.ContentRootPath);
        PlanCache? plans = null;
        if (_options.Plan == PlanMode.Measure)
        {
            plans = new PlanCache(_options.PlanCache.Length == 0 ? null : Path.GetFullPath(_options.PlanCache, environment.ContentRootPath));
            if (plans.LoadError is { } error) _logger.LogWarning("Plan cache not read ({Reason}); it is measured again and rewritten", error);
        }

        EngineOptions = EngineOptions.Default with { Threads = _options.Threads > 0 ? _options.Threads : Environment.ProcessorCount, Plan = _options.Plan, PlanCache = plans };
    }

    /// <summary>The models root, absolute.</summary>
    public string Root { get; }

    public EngineOptions EngineOptions { get; }

    /// <summary>Every model name with a loaded or failed version, by name.</summary>
    public ImmutableSortedDictionary<string, ServedModel> Models => Volatile.Read(ref _models);

    /// <summary>True once the first scan has loaded and warmed up every model on disk.</summary>
    public bool IsReady => _ready.Task.IsCompleted;

    public Task WhenReady => _ready.Task;

    /// <summary>
    /// Leases the requested version (the default one when <paramref name="version"/> is null), or
    /// says why not: the name or the version is unknown.
    /// </summary>
    public bool TryAcquire(string name, int? version, out ModelLease lease, out string? error)
    {
        // A version retired between the lookup and the lease is released; a fresh snapshot has its successor.
        for (int attempt = 0; attempt < 100; attempt++)
        {
            if (!Models.TryGetValue(name, out ServedModel? model) || model.Loaded.IsEmpty)
            {
                (lease, error) = (default, $"No model named \"{name}\" is served.");
                return false;
            }

            ModelVersion? chosen = version is int v ? model.Loaded.GetValueOrDefault(v) : model.Default;
            if (chosen is null)
            {
                string why = model.Failed.TryGetValue(version!.Value, out VersionFailure? failure) ? $" (it failed to load: {failure.Error})" : "";
                (lease, error) = (default, $"Model \"{name}\" has no served version {version}{why}; served: {string.Join(", ", model.Loaded.Keys)}.");
                return false;
            }

            if (chosen.TryAcquire())
            {
                (lease, error) = (new ModelLease(chosen), null);
                return true;
            }
        }

        throw new InvalidOperationException($"Model \"{name}\" kept changing while a request tried to use it.");
    }

    /// <summary>Brings the served set in line with the disk: loads new versions, retires removed or superseded ones.</summary>
    public async Task ScanAsync(CancellationToken cancellationToken)
    {
        await _changes.WaitAsync(cancellationToken);
        try
        {
            var names = ModelDirectory.Names(Root).ToHashSet(StringComparer.Ordinal);
            foreach (string name in names) Reconcile(name, cancellationToken);
            foreach (string gone in Models.Keys.Where(n => !names.Contains(n)).ToList()) Reconcile(gone, cancellationToken);
        }
        finally
        {
            _changes.Release();
        }

        _ready.TrySetResult();
    }

    /// <summary>
    /// Serves <c>Root/name/version</c> (already written, complete) at once rather than at the next scan.
    /// With <paramref name="promote"/> it becomes the default version; without, the current default stays.
    /// </summary>
    public async Task PublishAsync(string name, int version, bool promote, CancellationToken cancellationToken)
    {
        await _changes.WaitAsync(cancellationToken);
        try
        {
            ServedModel before = Models.GetValueOrDefault(name) ?? ServedModel.Empty(name);
            int? pin;
            if (promote)
            {
                var versions = ModelDirectory.Versions(Root, name);
                pin = versions.Count > 0 && versions.Keys.Last() == version ? null : version;
            }
            else
            {
                pin = before.Default?.Version;
            }

            ModelDirectory.WritePin(Root, name, pin);
            ServedModel after = Reconcile(name, cancellationToken);
            if (!after.Loaded.ContainsKey(version))
                throw new InvalidOperationException(after.Failed.TryGetValue(version, out VersionFailure? failure)
                    ? $"Model {name} version {version} failed to load: {failure.Error}"
                    : $"Model {name} version {version} is not in {Root}.");
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>One model name: decide which versions to serve, load the missing ones, swap, retire the rest.</summary>
    /// <param name="preloaded">A version already loaded and warmed up from its folder (an upload), served as it is.</param>
    private ServedModel Reconcile(string name, CancellationToken cancellationToken, ModelVersion? preloaded = null)
    {
        ServedModel current = Models.GetValueOrDefault(name) ?? ServedModel.Empty(name);
        // An unloaded model serves nothing until it is loaded again, whatever its folder holds.
        SortedDictionary<int, string> onDisk = IsUnloaded(name) ? [] : ModelDirectory.Versions(Root, name);
        int? pin = ModelDirectory.ReadPin(Root, name);
        if (pin is int p && !onDisk.ContainsKey(p)) pin = null;

        // The newest versions that load, plus the pinned default: walk down from the newest.
        var loaded = current.Loaded.ToBuilder();
        if (preloaded is not null) loaded[preloaded.Version] = preloaded;
        var failed = ImmutableSortedDictionary.CreateBuilder<int, VersionFailure>();
        var keep = new HashSet<int>();
        foreach ((int version, string dir) in onDisk.Reverse())
        {
            bool wanted = keep.Count < _options.MaxVersions || version == pin;
            if (!wanted) continue;
            cancellationToken.ThrowIfCancellationRequested();
            if (loaded.ContainsKey(version))
            {
                keep.Add(version);
                continue;
            }

            string stamp = ModelDirectory.Stamp(dir);
            if (current.Failed.TryGetValue(version, out VersionFailure? failure) && failure.Stamp == stamp)
            {
                failed[version] = failure;
                continue;
            }

            try
            {
                _loading[(name, version)] = true;
                loaded[version] = Load(name, version, dir);
                keep.Add(version);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogError("Model {Model} version {Version} in {Directory} failed to load and is skipped: {Error}", name, version, dir, e.Message);
                failed[version] = new VersionFailure(e.Message, stamp, DateTimeOffset.UtcNow);
            }
            finally
            {
                _loading.TryRemove((name, version), out _);
            }
        }

        var retired = loaded.Where(kv => !keep.Contains(kv.Key)).Select(kv => kv.Value).ToList();
        foreach (ModelVersion old in retired) loaded.Remove(old.Version);
        var next = new ServedModel(name, loaded.ToImmutable(), failed.ToImmutable(), pin);

        ImmutableInterlocked.Update(ref _models, models => next.Loaded.IsEmpty && next.Failed.IsEmpty ? models.Remove(name) : models.SetItem(name, next));
        if (current.Default?.Version != next.Default?.Version)
            _logger.LogInformation("Model {Model}: default version {Old} -> {New}", name,
                current.Default?.Version.ToString(CultureInfo.InvariantCulture) ?? "none", next.Default?.Version.ToString(CultureInfo.InvariantCulture) ?? "none");
        foreach (ModelVersion old in retired)
        {
            _logger.LogInformation("Model {Model} version {Version} retired; released when its last request finishes", name, old.Version);
            old.Retire();
        }

        return next;
    }

    private ModelVersion Load(string name, int version, string dir)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        (Model model, string sha) = LoadAndWarm(dir);
        _logger.LogInformation("Model {Model} version {Version} loaded and warmed up in {Milliseconds:F0} ms ({Parameters:N0} parameters)",
            name, version, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds, model.Parameters);
        if (EngineOptions.Plan == PlanMode.Measure) LogMeasuredPlan(name, version, model);
        return Serve(name, version, dir, model, sha);
    }

    private void LogMeasuredPlan(string name, int version, Model model)
    {
        var tally = PlanTally.Of(model.MeasuredPlan);
        _logger.LogInformation("Model {Model} version {Version}: plan measured, {Convolutions} convolutions with a choice, {Changed} not the fixed one, {Cached} from the cache",
            name, version, tally.Measured, tally.Changed, tally.FromCache);
        if (EngineOptions.PlanCache?.SaveError is { } error) _logger.LogWarning("Plan cache not saved: {Reason}", error);
    }

    /// <summary>What loading a version folder means, for the watcher and for an upload's validation alike.</summary>
    private (Model Model, string WeightsSha256) LoadAndWarm(string dir)
    {
        Model model = ModelLoader.Load(dir, EngineOptions);
        ImagePreprocessor.PreprocessingOf(model.Spec.Input); // a preprocessing hint we cannot honour fails the load, not the first request
        string sha;
        using (FileStream weights = File.OpenRead(ModelLoader.WeightsPath(dir)))
            sha = Convert.ToHexStringLower(SHA256.HashData(weights));

        WarmUp(model);
        return (model, sha);
    }

    private ModelVersion Serve(string name, int version, string dir, Model model, string sha) =>
        new(name, version, dir, model, sha, new DynamicBatcher(model, _batching, BatchObserver(name, version)));

    private Action<int> BatchObserver(string name, int version)
    {
        string text = version.ToString(CultureInfo.InvariantCulture);
        return images => _metrics.Batch(name, text, images);
    }

    /// <summary>One pass at the largest batch size, so the first request finds packed kernels and scratch memory ready.</summary>
    private void WarmUp(Model model)
    {
        int batch = Math.Max(1, _batching.MaxBatchSize);
        model.Forward(new float[batch * model.InputShape.Size], new float[batch * model.OutputShape.Size], batch);
    }

    public void Dispose()
    {
        foreach (ServedModel model in Models.Values)
            foreach (ModelVersion version in model.Loaded.Values)
                version.Retire();
        _changes.Dispose();
    }
}
