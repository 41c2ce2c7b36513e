using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CnnService.Hosting.Health;

/// <summary>ASP.NET Core health checks: <c>live</c> (the process answers) and <c>ready</c> (models warm, job store writable, disk free for checkpoints).</summary>
public static class HealthRegistration
{
    public const string Live = "live", Ready = "ready";

    public static IServiceCollection AddServiceHealthChecks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<HealthOptions>().Bind(configuration.GetSection(HealthOptions.Section))
            .Validate(o => o.MinFreeDiskMegabytes >= 0, "Health:MinFreeDiskMegabytes must be 0 or more.")
            .ValidateOnStart();
        services.AddHealthChecks()
            .AddCheck("process", () => HealthCheckResult.Healthy("The process answers."), tags: [Live])
            .AddCheck<ModelsReadyCheck>("models", tags: [Ready])
            .AddCheck<JobStoreWritableCheck>("job_store", tags: [Ready])
            .AddCheck<CheckpointDiskCheck>("checkpoint_disk", tags: [Ready]);
        return services;
    }
}
