using CnnService.Engine.Runtime;

namespace CnnService.Engine.Training;

/// <summary>
/// What one forward or backward call of a training network shares with its layers: the batch
/// size, whether this is a training pass (dropout active, batchnorm on batch statistics), the
/// threads and the job that splits work across them, and the step's seed for dropout masks.
/// </summary>
public sealed class TrainContext
{
    internal TrainContext(int threads, SimdLevel simd)
    {
        Threads = threads;
        Simd = simd;
    }

    public int Threads { get; }
    public SimdLevel Simd { get; }
    public int Batch { get; internal set; }
    public bool Training { get; internal set; }

    /// <summary>Seed of this step's random choices (dropout), derived from the run's seed and the step number.</summary>
    public ulong StepSeed { get; internal set; }

    internal ParallelJob Job { get; } = new() { Inputs = new nint[1] };

    /// <summary>Runs <paramref name="work"/> over <paramref name="chunks"/> chunks on up to <see cref="Threads"/> threads.</summary>
    internal void Run(IParallelWork work, int chunks) => Job.Run(work, chunks, Threads);
}
