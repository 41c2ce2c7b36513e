namespace CnnService.Batching;

/// <summary>A request's outputs ([count, outputs]) and the size of the batch they were computed in.</summary>
public readonly record struct BatchResult(float[] Outputs, int BatchSize);
