using CnnService.Engine.Layers;

namespace CnnService.Engine.Runtime;

/// <summary>How a model runs: how many threads one forward pass may use, which SIMD level, and how its plan is chosen.</summary>
public sealed record EngineOptions
{
    /// <summary>Threads per forward pass. Defaults to the CPUs this process may use (a container's CPU limit included).</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Forced SIMD level; by default the best this CPU accelerates. Tests set it to compare the paths.</summary>
    public SimdLevel Simd { get; init; } = Runtime.Simd.Best;

    /// <summary>Whether a batch runs runs of consecutive layers a chunk of images at a time, while the chunk is in cache
    /// (<see cref="BatchChunking"/>). On by default; the results are the same bit for bit either way.</summary>
    public bool ChunkBatches { get; init; } = true;

    /// <summary>How each convolution's lowering is chosen: by its shape (<see cref="PlanMode.Fixed"/>, the default) or by timing
    /// the candidates at load (<see cref="PlanMode.Measure"/>).</summary>
    public PlanMode Plan { get; init; } = PlanMode.Fixed;

    /// <summary>Where measured choices are kept and looked up (per CPU, SIMD level, threads and layer shape), so a model is
    /// measured once; null measures at every load. Only read when <see cref="Plan"/> is <see cref="PlanMode.Measure"/>.</summary>
    public PlanCache? PlanCache { get; init; }

    /// <summary>Images per chunk for every chunked run, instead of what the L2 budget gives: tests use it to
    /// cut small test batches into several chunks.</summary>
    internal int? ChunkImages { get; init; }

    /// <summary>Lowerings forced by layer index (of the spec): what a measured plan builds, and what tests compare.</summary>
    internal IReadOnlyDictionary<int, ConvLowering>? Lowerings { get; init; }

    /// <summary>Times one candidate for a measured plan, in ms per pass, instead of the clock: tests make the choice certain.</summary>
    internal Func<Conv2D, ConvLowering, double>? PlanTimer { get; init; }

    public static EngineOptions Default { get; } = new();
}

/// <summary>How the plan chooses each convolution's lowering.</summary>
public enum PlanMode
{
    /// <summary>By the layer's shape and the SIMD level, the same on every CPU: rules tuned on the hosts measured.</summary>
    Fixed,

    /// <summary>At load, each convolution that more than one lowering can run is timed alone with each of them (batch 1, the
    /// model's threads), and the fastest kept unless the fixed choice is within <see cref="PlanMeasurement.Margin"/> of it,
    /// as oneDNN, XNNPACK and TVM settle such choices on the machine itself.</summary>
    Measure,
}
