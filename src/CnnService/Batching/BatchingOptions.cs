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
}
