using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>Joins any number of [C_k, H, W] inputs along channels into [sum C_k, H, W], in input order:
/// each item of the output is its inputs' items one after the other, so it is a copy per (item, input).</summary>
public sealed unsafe class Concat : Layer, IParallelWork
{
    internal Concat(string? name, string where, TensorShape[] inputs)
        : base("concat", name, inputs, Output(where, inputs))
    {
    }

    internal override void Forward(ParallelJob job, int threads)
    {
        long bytes = (long)job.Batch * OutputShape.Size * sizeof(float);
        // A copy is cheap per byte: count it as a quarter of a FLOP per float, so small ones stay on one thread.
        job.Run(this, Parallelism.Chunks(bytes / 16, job.Batch * InputShapes.Count, threads), threads);
    }

    void IParallelWork.RunChunk(ParallelJob job, int chunk)
    {
        int count = InputShapes.Count;
        (int start, int end) = Parallelism.Range(job.Batch * count, job.Chunks, chunk);
        for (int piece = start; piece < end; piece++)
        {
            int image = piece / count, k = piece % count;
            long size = InputShapes[k].Size, at = (long)image * OutputShape.Size;
            for (int j = 0; j < k; j++) at += InputShapes[j].Size;
            long bytes = size * sizeof(float);
            Buffer.MemoryCopy((float*)job.Inputs[k] + image * size, job.Output + at, bytes, bytes);
        }
    }

    private static TensorShape Output(string where, TensorShape[] inputs)
    {
        long channels = 0;
        TensorShape first = inputs[0];
        for (int k = 0; k < inputs.Length; k++)
        {
            if (inputs[k].H != first.H || inputs[k].W != first.W)
                throw new ModelFormatException($"{where}: input {k} is {inputs[k]} but input 0 is {first}: concat joins channels, so height and width must agree.");
            channels += inputs[k].C;
        }

        if (channels * first.H * first.W > Model.MaxActivationFloats)
            throw new ModelFormatException($"{where}: output {channels}x{first.H}x{first.W} is larger than {Model.MaxActivationFloats:N0} values per image.");
        return new TensorShape((int)channels, first.H, first.W);
    }
}
