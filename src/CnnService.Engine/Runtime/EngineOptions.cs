namespace CnnService.Engine.Runtime;

/// <summary>How a model runs: how many threads one forward pass may use, and which SIMD level.</summary>
public sealed record EngineOptions
{
    /// <summary>Threads per forward pass. Defaults to the CPUs this process may use (a container's CPU limit included).</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Forced SIMD level; by default the best this CPU accelerates. Tests set it to compare the paths.</summary>
    public SimdLevel Simd { get; init; } = Runtime.Simd.Best;

    /// <summary>Whether a batch runs runs of consecutive layers a chunk of images at a time, while the chunk is in cache
    /// (<see cref="BatchChunking"/>). On by default; the results are the same bit for bit either way.</summary>
    public bool ChunkBatches { get; init; } = true;

    /// <summary>Images per chunk for every chunked run, instead of what the L2 budget gives: tests use it to
    /// cut small test batches into several chunks.</summary>
    internal int? ChunkImages { get; init; }

    public static EngineOptions Default { get; } = new();
}
