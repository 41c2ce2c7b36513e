using CnnService.Jobs;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace CnnService.Hosting.Health;

/// <summary>Enough free disk where the job store keeps checkpoints (<see cref="HealthOptions.MinFreeDiskMegabytes"/>): a full disk fails a training job at its first checkpoint.</summary>
public sealed class CheckpointDiskCheck(TrainJobPaths paths, IOptions<HealthOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        long freeMegabytes = new DriveInfo(paths.Root).AvailableFreeSpace / (1024 * 1024);
        long minimum = options.Value.MinFreeDiskMegabytes;
        string words = $"{freeMegabytes:N0} MB free for checkpoints at {paths.Root} (at least {minimum:N0} MB wanted).";
        return Task.FromResult(freeMegabytes >= minimum ? HealthCheckResult.Healthy(words) : HealthCheckResult.Unhealthy(words));
    }
}
