using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CnnService.Jobs;

public static class TrainJobServiceCollectionExtensions
{
    /// <summary>
    /// The train jobs: settings from the <c>Jobs</c> and <c>Datasets</c> sections, the SQLite store under <c>Jobs:Root</c>, the
    /// queue, and the background worker. The <see cref="IModelPublisher"/> the jobs hand their models to is
    /// registered by the model repository, not here.
    /// </summary>
    public static IServiceCollection AddTrainJobs(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TrainJobOptions>()
            .Bind(configuration.GetSection(TrainJobOptions.Section))
            .Validate(o => o.Concurrency >= 1, "Jobs:Concurrency must be at least 1.")
            .Validate(o => o.Threads is null or >= 1, "Jobs:Threads must be at least 1.")
            .Validate(o => o.ProgressIntervalMilliseconds >= 0, "Jobs:ProgressIntervalMilliseconds must not be negative.")
            .Validate(o => o.CrashesBeforeFailing >= 1, "Jobs:CrashesBeforeFailing must be at least 1.")
            .Validate(o => o.CheckpointSeconds >= 0, "Jobs:CheckpointSeconds must not be negative.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.Root), "Jobs:Root must name a folder.")
            .ValidateOnStart();
        services.AddOptions<DatasetOptions>().Bind(configuration.GetSection(DatasetOptions.Section));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<TrainJobPaths>();
        services.AddSingleton<DatasetRoots>();
        services.AddSingleton<TrainJobDataset>();
        services.AddSingleton<TrainJobStore>();
        services.AddSingleton<TrainJobQueue>();
        services.AddSingleton<TrainJobManager>();
        services.AddSingleton<TrainJobValidator>();
        services.AddSingleton<TrainJobRunner>();
        services.AddHostedService<TrainJobWorker>();
        return services;
    }
}
