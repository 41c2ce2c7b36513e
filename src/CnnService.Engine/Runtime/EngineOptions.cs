namespace CnnService.Engine.Runtime;

/// <summary>How a model runs: how many threads one forward pass may use, and which SIMD level.</summary>
public sealed record EngineOptions
{
    /// <summary>Threads per forward pass. Defaults to the CPUs this process may use (a container's CPU limit included).</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Forced SIMD level; by default the best this CPU accelerates. Tests set it to compare the paths.</summary>
    public SimdLevel Simd { get; init; } = Runtime.Simd.Best;

    public static EngineOptions Default { get; } = new();
}
