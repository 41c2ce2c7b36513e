using CnnService.Batching;
using CnnService.Jobs;
using CnnService.Models;
using CnnService.Predict;
using Microsoft.Extensions.Options;

namespace CnnService.Hosting;

/// <summary>Registers model serving: options, the repository and its watcher, batching, the predict reader.</summary>
public static class ModelServingRegistration
{
    public static IServiceCollection AddModelServing(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ModelsOptions>().Bind(configuration.GetSection(ModelsOptions.Section))
            .Validate(o => o.MaxVersions >= 1, "Models:MaxVersions must be at least 1.")
            .Validate(o => o.PollSeconds > 0, "Models:PollSeconds must be positive.")
            .Validate(o => o.Threads >= 0, "Models:Threads must be 0 (all CPUs) or more.")
            .ValidateOnStart();
        services.AddOptions<BatchingOptions>().Bind(configuration.GetSection(BatchingOptions.Section))
            .Validate(o => o.MaxBatchSize is >= 1 and <= 4096, "Batching:MaxBatchSize must be 1..4096.")
            .Validate(o => o.MaxDelayMilliseconds is >= 0 and <= 10_000, "Batching:MaxDelayMilliseconds must be 0..10000.")
            .Validate(o => o.MaxQueuedImages >= 1, "Batching:MaxQueuedImages must be at least 1.")
            .Validate(o => o.RetryAfterSeconds is >= 0 and <= 3600, "Batching:RetryAfterSeconds must be 0..3600.")
            .ValidateOnStart();
        services.AddOptions<PredictLimits>().Bind(configuration.GetSection(PredictLimits.Section))
            .Validate(o => o.MaxBodyBytes is >= 1024 and <= int.MaxValue, "Limits:MaxBodyBytes must be 1 KiB..2 GiB.")
            .Validate(o => o.MaxDiscardBytes >= 0, "Limits:MaxDiscardBytes must be 0 or more.")
            .Validate(o => o.DiscardSeconds is >= 0 and <= 600, "Limits:DiscardSeconds must be 0..600.")
            .Validate(o => o.MaxImagesPerRequest >= 1, "Limits:MaxImagesPerRequest must be at least 1.")
            .Validate(o => o.MaxImagePixels >= 1, "Limits:MaxImagePixels must be at least 1.")
            .Validate(o => o.MinImageSide >= 1, "Limits:MinImageSide must be at least 1.")
            .ValidateOnStart();

        services.AddSingleton<ModelRepository>();
        services.AddSingleton<IModelPublisher>(sp => sp.GetRequiredService<ModelRepository>());
        services.AddHostedService<ModelWatcher>();
        services.AddSingleton(sp => new ImageInput(sp.GetRequiredService<IOptions<PredictLimits>>().Value));
        services.AddSingleton(sp => new PredictRequestReader(sp.GetRequiredService<IOptions<PredictLimits>>().Value, sp.GetRequiredService<ImageInput>().Decode));
        services.AddSingleton<Inference.InferenceService>();
        return services;
    }
}
