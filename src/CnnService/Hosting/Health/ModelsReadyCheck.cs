using CnnService.Models;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CnnService.Hosting.Health;

/// <summary>Ready once every model on disk is loaded and has run a warm-up pass, so no first request finds a cold model.</summary>
public sealed class ModelsReadyCheck(ModelRepository repository) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(repository.IsReady
            ? HealthCheckResult.Healthy($"{repository.Models.Count} model(s) loaded and warm.")
            : HealthCheckResult.Unhealthy("Loading and warming up the models."));
}
