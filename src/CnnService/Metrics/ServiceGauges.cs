using System.Diagnostics.Metrics;
using CnnService.Jobs;
using CnnService.Models;

namespace CnnService.Metrics;

/// <summary>Gauges read from their owners when scraped, so they can never go stale: versions loaded, requests queued, train jobs by state.</summary>
public static class ServiceGauges
{
    public static void AddServiceGauges(this IServiceProvider services)
    {
        Meter meter = services.GetRequiredService<InferenceMetrics>().Meter;
        var repository = services.GetRequiredService<ModelRepository>();
        var jobs = services.GetRequiredService<TrainJobManager>();
        meter.CreateObservableGauge("cnn.models.loaded", () => LoadedVersions(repository), "{version}", "Loaded model versions, by model.");
        meter.CreateObservableGauge("cnn.batch.queue.length", () => QueueLengths(repository), "{request}",
            "Inference requests waiting for a batch, by model and version.");
        meter.CreateObservableGauge("cnn.train.jobs", () => JobsByState(jobs), "{job}", "Train jobs by state.");
    }

    private static IEnumerable<Measurement<int>> LoadedVersions(ModelRepository repository)
    {
        foreach (ServedModel model in repository.Models.Values)
            yield return new Measurement<int>(model.Loaded.Count, new KeyValuePair<string, object?>("model", model.Name));
    }

    private static IEnumerable<Measurement<int>> QueueLengths(ModelRepository repository)
    {
        foreach (ServedModel model in repository.Models.Values)
        foreach (ModelVersion version in model.Loaded.Values)
            yield return new Measurement<int>(version.Batcher.QueueLength,
                new KeyValuePair<string, object?>("model", version.Name), new KeyValuePair<string, object?>("version", version.VersionText));
    }

    private static IEnumerable<Measurement<int>> JobsByState(TrainJobManager jobs)
    {
        foreach ((TrainJobState state, int count) in jobs.CountByState())
            yield return new Measurement<int>(count, new KeyValuePair<string, object?>("state", state.Name()));
    }
}
