using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>Dropout is the identity at inference (inverted dropout scales during training instead).</summary>
public sealed class Dropout : Layer
{
    internal Dropout(string? name, TensorShape input, float rate)
        : base("dropout", name, input, input)
    {
        Rate = rate;
    }

    public float Rate { get; }

    internal override bool IsView => true;

    /// <summary>Runs only in a trace, which gives every layer its own output: a copy.</summary>
    internal override unsafe void Forward(ParallelJob job, int threads)
    {
        long bytes = (long)job.Batch * InputShape.Size * sizeof(float);
        if (job.Input != job.Output) Buffer.MemoryCopy(job.Input, job.Output, bytes, bytes);
    }
}
