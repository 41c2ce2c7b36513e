using Microsoft.Extensions.Options;

namespace CnnService.Models;

/// <summary>
/// Keeps the repository in step with the models root: a first scan at start-up (readiness waits for it),
/// then a rescan whenever the file system reports a change, and every few seconds regardless, because
/// network volumes (a Kubernetes PVC, a bind mount) do not always deliver notifications.
/// </summary>
public sealed class ModelWatcher(ModelRepository repository, IOptions<ModelsOptions> options, ILogger<ModelWatcher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        logger.LogInformation("Serving models from {Root}", repository.Root);
        var changed = new SemaphoreSlim(0);
        using FileSystemWatcher? watcher = TryWatch(repository.Root, () => { if (changed.CurrentCount == 0) changed.Release(); });
        TimeSpan poll = TimeSpan.FromSeconds(Math.Max(0.1, options.Value.PollSeconds));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await repository.ScanAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Scanning {Root} failed; the models already loaded keep serving", repository.Root);
            }

            try
            {
                await changed.WaitAsync(poll, stoppingToken);
                // A new version arrives as a burst of events; let the burst settle before scanning.
                await Task.Delay(TimeSpan.FromMilliseconds(200), stoppingToken);
                while (changed.CurrentCount > 0) changed.Wait(0);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private FileSystemWatcher? TryWatch(string root, Action onChange)
    {
        if (!Directory.Exists(root))
        {
            logger.LogWarning("Models root {Root} does not exist; polling for it", root);
            return null;
        }

        try
        {
            var watcher = new FileSystemWatcher(root) { IncludeSubdirectories = true, NotifyFilter = NotifyFilters.DirectoryName | NotifyFilters.FileName | NotifyFilters.LastWrite };
            watcher.Created += (_, _) => onChange();
            watcher.Deleted += (_, _) => onChange();
            watcher.Renamed += (_, _) => onChange();
            watcher.Changed += (_, _) => onChange();
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException)
        {
            logger.LogWarning("Cannot watch {Root} ({Error}); polling only", root, e.Message);
            return null;
        }
    }
}
