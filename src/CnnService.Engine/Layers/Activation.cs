using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>relu, sigmoid or tanh, elementwise and in place. A ReLU straight after a conv2d or
/// dense layer never runs here: the model plan fuses it into that layer's GEMM.</summary>
public sealed unsafe class Activation : Layer, IParallelWork
{
    /// <summary>Elements per chunk unit: a chunk is a whole number of these.</summary>
    private const int Block = 4096;

    private readonly SimdLevel _simd;
    private readonly Function _function;

    internal Activation(string type, string? name, TensorShape input, SimdLevel simd)
        : base(type, name, input, input)
    {
        _simd = simd;
        _function = type switch
        {
            "relu" => Function.Relu,
            "sigmoid" => Function.Sigmoid,
            "tanh" => Function.Tanh,
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };
    }

    private enum Function { Relu, Sigmoid, Tanh }

    public override long FlopsPerImage => InputShape.Size;

    internal override bool InPlace => true;

    internal override void Forward(ParallelJob job, int threads)
    {
        // An exponential costs about 16 times a max: sigmoid and tanh split across threads sooner.
        long length = (long)job.Batch * InputShape.Size;
        job.Run(this, Parallelism.Chunks(length * (_function == Function.Relu ? 1 : 16), Blocks(length), threads), threads);
    }

    void IParallelWork.RunChunk(ParallelJob job, int chunk)
    {
        long length = (long)job.Batch * InputShape.Size;
        (int start, int end) = Parallelism.Range(Blocks(length), job.Chunks, chunk);
        nint from = (nint)start * Block, count = (nint)Math.Min((long)end * Block, length) - from;
        float* x = job.Input + from, y = job.Output + from;
        switch (_function)
        {
            case Function.Relu: UnaryDriver.Apply<ReluOperator>(x, y, count, _simd); break;
            case Function.Sigmoid: UnaryDriver.Apply<SigmoidOperator>(x, y, count, _simd); break;
            default: UnaryDriver.Apply<TanhOperator>(x, y, count, _simd); break;
        }
    }

    private static int Blocks(long length) => (int)((length + Block - 1) / Block);
}
