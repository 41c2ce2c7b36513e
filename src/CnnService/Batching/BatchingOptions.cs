namespace CnnService.Batching;

/// <summary>Triton-style dynamic batching (configuration section <c>Batching</c>).</summary>
public sealed class BatchingOptions
{
    public const string Section = "Batching";

    /// <summary>Most images in one forward pass. A single request with more images still runs, alone.</summary>
    public int MaxBatchSize { get; set; } = 32;

    /// <summary>
    /// How long the first request of a batch may wait for company. 0 (the default) means it takes whatever
    /// is queued already and never waits: the lowest latency for a lone client, and batching still happens
    /// under load because requests queue while a batch runs.
    /// </summary>
    public double MaxDelayMilliseconds { get; set; }

    /// <summary>
    /// Most images waiting per model version (default 4 full batches). Past that a request is answered 429
    /// at once instead of queueing: throughput stops rising long before, so a longer queue only adds latency.
    /// </summary>
    public int MaxQueuedImages { get; set; } = 128;

    /// <summary>The <c>Retry-After</c> of a 429, in seconds.</summary>
    public int RetryAfterSeconds { get; set; } = 1;
}
