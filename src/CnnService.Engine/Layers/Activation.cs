using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>relu, sigmoid or tanh, elementwise and in place. A ReLU straight after a conv2d or
/// dense layer never runs here: the model plan fuses it into that layer's GEMM.</summary>
public sealed unsafe class Activation : Layer, IParallelWork
{
    private readonly SimdLevel _simd;

    internal Activation(string type, string? name, TensorShape input, SimdLevel simd)
        : base(type, name, input, input)
    {
        if (type is not ("relu" or "sigmoid" or "tanh")) throw new ArgumentOutOfRangeException(nameof(type));
        _simd = simd;
    }

    public override long FlopsPerImage => InputShape.Size;

    internal override bool InPlace => true;

    internal override void Forward(ParallelJob job, int threads)
    {
        long length = (long)job.Batch * InputShape.Size;
        int blocks = (int)((length + 4095) / 4096);
        job.Run(this, Parallelism.Chunks(length * (Type == "relu" ? 1 : 16), blocks, threads), threads);
    }

    void IParallelWork.RunChunk(ParallelJob job, int chunk)
    {
        long length = (long)job.Batch * InputShape.Size;
        (int start, int end) = Parallelism.Range((int)((length + 4095) / 4096), job.Chunks, chunk);
        nint from = (nint)start * 4096, count = (nint)Math.Min((long)end * 4096, length) - from;
        float* x = job.Input + from, y = job.Output + from;
        switch (Type)
        {
            case "relu": UnaryDriver.Apply<ReluOperator>(x, y, count, _simd); break;
            case "sigmoid": UnaryDriver.Apply<SigmoidOperator>(x, y, count, _simd); break;
            default: UnaryDriver.Apply<TanhOperator>(x, y, count, _simd); break;
        }
    }
}
