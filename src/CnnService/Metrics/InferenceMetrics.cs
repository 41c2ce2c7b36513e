using System.Diagnostics;
using System.Diagnostics.Metrics;
using CnnService.Batching;
using CnnService.Inference;
using CnnService.Models;

namespace CnnService.Metrics;

/// <summary>
/// The service's own instruments, on the <see cref="MeterName"/> meter, in the units Triton and TorchServe users read:
/// per model and version, inference requests by protocol and outcome, images inferred, each request's time in the
/// service, in the batch queue and in the forward pass that served it, the batch sizes run, and the requests shed.
/// OpenTelemetry exports them at <c>/metrics</c> (<see cref="MetricsRegistration"/>), naming
/// <c>cnn.inference.queue.duration</c> in unit <c>s</c> as <c>cnn_inference_queue_duration_seconds</c>.
/// Recording is a few lock-free updates with the tags on the stack: it is on every request's path.
/// </summary>
public sealed class InferenceMetrics
{
    public const string MeterName = "CnnService";

    /// <summary>Bucket bounds for every duration histogram the service records; sub-millisecond ones, as a small model's forward pass takes tens of microseconds.</summary>
    internal static readonly double[] SecondsBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private static readonly int[] BatchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256];

    private readonly Counter<long> _requests, _images, _shed;
    private readonly Histogram<double> _requestDuration, _queueDuration, _computeDuration;
    private readonly Histogram<int> _batchSize;

    public InferenceMetrics(IMeterFactory meters)
    {
        Meter = meters.Create(MeterName);
        _requests = Meter.CreateCounter<long>("cnn.inference.requests", "{request}",
            "Inference requests that found their model, by model, version, protocol and outcome (success or failure).");
        _images = Meter.CreateCounter<long>("cnn.inference.images", "{image}", "Images inferred, by model, version and protocol.");
        _shed = Meter.CreateCounter<long>("cnn.requests.shed", "{request}",
            "Inference requests refused at once because their version's batch queue was full (429, RESOURCE_EXHAUSTED).");
        _requestDuration = Seconds("cnn.inference.request.duration",
            "Time from finding the model to the answer, reading and decoding the input included, by model, version and protocol.");
        _queueDuration = Seconds("cnn.inference.queue.duration", "Time a request waited in its version's batch queue.");
        _computeDuration = Seconds("cnn.inference.compute.duration", "Time of the batched forward pass that served a request.");
        _batchSize = Meter.CreateHistogram("cnn.batch.size", "{image}", "Images per forward pass the dynamic batcher ran, by model and version.",
            tags: null, new InstrumentAdvice<int> { HistogramBucketBoundaries = BatchBuckets });
    }

    /// <summary>The meter the gauges (<see cref="ServiceGauges"/>) also use.</summary>
    public Meter Meter { get; }

    /// <summary>A request answered from <paramref name="batch"/>, <paramref name="startTimestamp"/> being when its model was found.</summary>
    public void Served(ModelVersion version, InferenceProtocol protocol, int images, BatchResult batch, long startTimestamp)
    {
        var tags = new TagList { { "model", version.Name }, { "version", version.VersionText }, { "protocol", protocol.Label() } };
        _images.Add(images, tags);
        _requestDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tags);
        tags.Add("outcome", "success");
        _requests.Add(1, tags);

        var versionTags = new TagList { { "model", version.Name }, { "version", version.VersionText } };
        _queueDuration.Record(batch.Queued.TotalSeconds, versionTags);
        _computeDuration.Record(batch.Computed.TotalSeconds, versionTags);
    }

    /// <summary>A request that found its model and then was refused or failed.</summary>
    public void Failed(ModelVersion version, InferenceProtocol protocol, long startTimestamp)
    {
        var tags = new TagList { { "model", version.Name }, { "version", version.VersionText }, { "protocol", protocol.Label() } };
        _requestDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tags);
        tags.Add("outcome", "failure");
        _requests.Add(1, tags);
    }

    public void Shed(ModelVersion version, InferenceProtocol protocol) =>
        _shed.Add(1, new TagList { { "model", version.Name }, { "version", version.VersionText }, { "protocol", protocol.Label() } });

    public void Batch(string model, string version, int images) =>
        _batchSize.Record(images, new TagList { { "model", model }, { "version", version } });

    private Histogram<double> Seconds(string name, string description) =>
        Meter.CreateHistogram(name, "s", description, tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
}
