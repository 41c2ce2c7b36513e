using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>
/// One step of the network. A layer is immutable once built: its weights are packed and its
/// plan (output shape, lowering, scratch size) is fixed at load time, and everything that
/// changes per call lives in the <see cref="ParallelJob"/> of a rented workspace. So any number
/// of threads can run the same layer at once.
/// </summary>
public abstract class Layer
{
    protected Layer(string type, string? name, TensorShape input, TensorShape output)
    {
        Type = type;
        Name = name;
        InputShape = input;
        OutputShape = output;
    }

    public string Type { get; }
    public string? Name { get; }
    public TensorShape InputShape { get; }
    public TensorShape OutputShape { get; }

    /// <summary>Learned values (weights, biases, batchnorm statistics).</summary>
    public virtual long Parameters => 0;

    /// <summary>Floating-point operations per image; a multiply-add counts as two.</summary>
    public virtual long FlopsPerImage => 0;

    /// <summary>True when the layer may write its output over its input (same shape, elementwise).</summary>
    internal virtual bool InPlace => false;

    /// <summary>Scratch floats one call needs for <paramref name="batch"/> images (shared by its threads; per-thread buffers come from ThreadScratch).</summary>
    internal virtual long ScratchFloats(int batch) => 0;

    /// <summary>Reads job.Input, writes job.Output (the same buffer when <see cref="InPlace"/>), for job.Batch images.</summary>
    internal abstract void Forward(ParallelJob job, int threads);

    public override string ToString() => Name is null ? Type : $"{Name} ({Type})";
}
