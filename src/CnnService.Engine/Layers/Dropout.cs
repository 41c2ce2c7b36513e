using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>Dropout is the identity at inference (inverted dropout scales during training instead).</summary>
public sealed partial class Dropout : Layer
{
    internal Dropout(LayerSpec spec, string where, TensorShape input)
        : base("dropout", spec.Name, input, input)
    {
        if (!(spec.Rate >= 0 && spec.Rate < 1)) throw new ModelFormatException($"{where}: \"rate\" must be at least 0 and below 1, got {spec.Rate}.");
        Rate = spec.Rate;
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
