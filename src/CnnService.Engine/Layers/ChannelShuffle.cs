using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>
/// "channel_shuffle" with "groups" g (ShuffleNet's, as ONNX exports it: reshape, transpose, reshape):
/// [C, H, W] viewed as [g, C/g, H, W] and transposed to [C/g, g, H, W], so output channel
/// j * g + i is input channel i * (C/g) + j. Each output plane is one copy of an input plane.
/// </summary>
public sealed unsafe class ChannelShuffle : Layer, IParallelWork
{
    internal ChannelShuffle(LayerSpec spec, string where, TensorShape input)
        : base("channel_shuffle", spec.Name, input, input)
    {
        var attributes = new LayerAttributes(spec, where);
        if (!attributes.Has("groups"))
            throw new ModelFormatException($"{where}: \"groups\" is required for channel_shuffle.");
        Groups = attributes.Int("groups", 1, 1, input.C);
        if (input.C % Groups != 0)
            throw new ModelFormatException($"{where}: {input.C} channels do not split into {Groups} groups.");
    }

    public int Groups { get; }

    internal override void Forward(ParallelJob job, int threads)
    {
        int planes = job.Batch * InputShape.C;
        job.Run(this, Parallelism.Chunks((long)job.Batch * InputShape.Size, planes, threads), threads);
    }

    void IParallelWork.RunChunk(ParallelJob job, int chunk)
    {
        (int start, int end) = Parallelism.Range(job.Batch * InputShape.C, job.Chunks, chunk);
        int c = InputShape.C, plane = InputShape.H * InputShape.W, perGroup = c / Groups;
        for (int p = start; p < end; p++)
        {
            (int image, int o) = Math.DivRem(p, c);
            int from = o % Groups * perGroup + o / Groups;
            new ReadOnlySpan<float>(job.Input + ((nint)image * c + from) * plane, plane)
                .CopyTo(new Span<float>(job.Output + (nint)p * plane, plane));
        }
    }
}
