namespace CnnService.Batching;

/// <summary>
/// A request's outputs ([count, outputs]), the size of the batch they were computed in, how long the request waited
/// in the queue and how long that batch's forward pass took.
/// </summary>
public readonly record struct BatchResult(float[] Outputs, int BatchSize, TimeSpan Queued, TimeSpan Computed);
