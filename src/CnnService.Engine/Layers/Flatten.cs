using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>[C, H, W] to [C*H*W] in (C, H, W) order, as PyTorch's flatten. NCHW memory already is
/// that order, so it moves nothing.</summary>
public sealed partial class Flatten : Layer
{
    internal Flatten(string? name, TensorShape input)
        : base("flatten", name, input, new TensorShape(input.Size, 1, 1))
    {
    }

    internal override bool IsView => true;

    /// <summary>Runs only in a trace, which gives every layer its own output: a copy.</summary>
    internal override unsafe void Forward(ParallelJob job, int threads)
    {
        long bytes = (long)job.Batch * InputShape.Size * sizeof(float);
        if (job.Input != job.Output) Buffer.MemoryCopy(job.Input, job.Output, bytes, bytes);
    }
}
