using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>
/// "reshape" to "shape" [C], [C, H] or [C, H, W] per item (the batch stays outside), with the
/// input's element count: NCHW memory is already in that order, so, like flatten, it moves nothing.
/// </summary>
public sealed class Reshape : Layer
{
    internal Reshape(LayerSpec spec, string where, TensorShape input)
        : base("reshape", spec.Name, input, Output(spec, where, input))
    {
    }

    internal override bool IsView => true;

    /// <summary>Runs only in a trace, which gives every layer its own output: a copy.</summary>
    internal override unsafe void Forward(ParallelJob job, int threads)
    {
        long bytes = (long)job.Batch * InputShape.Size * sizeof(float);
        if (job.Input != job.Output) Buffer.MemoryCopy(job.Input, job.Output, bytes, bytes);
    }

    private static TensorShape Output(LayerSpec spec, string where, TensorShape input)
    {
        int[] shape = new LayerAttributes(spec, where).Ints("shape", 1, int.MaxValue)
            ?? throw new ModelFormatException($"{where}: \"shape\" is required for reshape: [C], [C, H] or [C, H, W].");
        if (shape.Length is < 1 or > 3)
            throw new ModelFormatException($"{where}: \"shape\" must be [C], [C, H] or [C, H, W] (the batch is not part of it), got {shape.Length} dimensions.");
        Int128 count = 1;
        foreach (int d in shape) count *= d; // three factors below 2^31 overflow a long, not an Int128
        long have = (long)input.C * input.H * input.W;
        if (count != have)
            throw new ModelFormatException($"{where}: shape [{string.Join(",", shape)}] holds {count} values, but the input {input} holds {have}.");
        return new TensorShape(shape[0], shape.Length > 1 ? shape[1] : 1, shape.Length > 2 ? shape[2] : 1);
    }
}
