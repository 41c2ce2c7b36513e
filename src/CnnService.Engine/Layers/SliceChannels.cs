using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>Channels [start, end) of a [C, H, W] input (ONNX Split and Slice on the channel axis):
/// one contiguous copy per item, since items of the slice are closer together than in the input.</summary>
public sealed unsafe class SliceChannels : Layer, IParallelWork
{
    internal SliceChannels(LayerSpec spec, string where, TensorShape input)
        : base("slice_channels", spec.Name, input, Output(spec, where, input, out int start))
    {
        Start = start;
    }

    /// <summary>The first input channel copied.</summary>
    public int Start { get; }

    internal override void Forward(ParallelJob job, int threads)
    {
        long bytes = (long)job.Batch * OutputShape.Size * sizeof(float);
        job.Run(this, Parallelism.Chunks(bytes / 16, job.Batch, threads), threads);
    }

    void IParallelWork.RunChunk(ParallelJob job, int chunk)
    {
        (int start, int end) = Parallelism.Range(job.Batch, job.Chunks, chunk);
        long plane = (long)InputShape.H * InputShape.W, bytes = OutputShape.Size * sizeof(float);
        for (int image = start; image < end; image++)
            Buffer.MemoryCopy(job.Input + image * (long)InputShape.Size + Start * plane, job.Output + image * (long)OutputShape.Size, bytes, bytes);
    }

    private static TensorShape Output(LayerSpec spec, string where, TensorShape input, out int start)
    {
        var attributes = new LayerAttributes(spec, where);
        if (!attributes.Has("start") || !attributes.Has("end"))
            throw new ModelFormatException($"{where}: slice_channels needs \"start\" and \"end\" (the channel range [start, end)).");
        start = attributes.Int("start", 0, 0, input.C - 1);
        int end = attributes.Int("end", 0, start + 1, input.C);
        return new TensorShape(end - start, input.H, input.W);
    }
}
