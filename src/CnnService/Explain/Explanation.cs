using CnnService.Engine.Runtime;

namespace CnnService.Explain;

/// <summary>
/// One image traced through one model version: its input as the network saw it and every layer's
/// output. Self-contained (shapes and layer names copied), so a cached explanation can still be
/// drawn after its version has been swapped out.
/// </summary>
public sealed record Explanation(
    string Id, string Model, int Version, DateTimeOffset ExpiresAt,
    TensorShape InputShape, float[] Input, string?[] LayerNames, TensorShape[] Shapes, float[][] Outputs)
{
    /// <summary>Values held, for the cache's size accounting.</summary>
    public long Floats => Input.LongLength + Outputs.Sum(o => o.LongLength);
}
