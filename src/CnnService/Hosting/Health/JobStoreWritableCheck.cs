using CnnService.Jobs;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CnnService.Hosting.Health;

/// <summary>
/// The train-job store can take writes: a file can be created in its folder (where checkpoints go too)
/// and its database grants the write lock. A service that cannot record a job should not take one.
/// </summary>
public sealed class JobStoreWritableCheck(TrainJobPaths paths, TrainJobStore store) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        string probe = Path.Combine(paths.Root, $".health-{Environment.ProcessId}");
        try
        {
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            store.CheckWritable();
            return Task.FromResult(HealthCheckResult.Healthy("The job store takes writes."));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"The job store at {paths.Root} cannot be written: {e.Message}"));
        }
    }
}
