using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Training;

namespace CnnService.Engine.Layers;

/// <summary>
/// One operation of the network's graph. A layer is immutable once built: its weights are packed
/// and its plan (output shape, lowering, scratch size) is fixed at load time, and everything that
/// changes per call lives in the <see cref="ParallelJob"/> of a rented workspace. So any number
/// of threads can run the same layer at once. Most layers read one tensor; a layer built with
/// several input shapes (add, concat) reads them all, through <see cref="ParallelJob.Inputs"/>.
/// </summary>
public abstract class Layer
{
    protected Layer(string type, string? name, TensorShape input, TensorShape output)
        : this(type, name, [input], output)
    {
    }

    protected Layer(string type, string? name, TensorShape[] inputs, TensorShape output)
    {
        Type = type;
        Name = name;
        InputShapes = inputs;
        InputShape = inputs[0];
        OutputShape = output;
    }

    public string Type { get; }
    public string? Name { get; }

    /// <summary>The shape of the first (usually the only) input.</summary>
    public TensorShape InputShape { get; }

    /// <summary>Every input's shape, in the order the layer reads them.</summary>
    public IReadOnlyList<TensorShape> InputShapes { get; }

    public TensorShape OutputShape { get; }

    /// <summary>Learned values (weights, biases, batchnorm statistics).</summary>
    public virtual long Parameters => 0;

    /// <summary>Floating-point operations per image; a multiply-add counts as two.</summary>
    public virtual long FlopsPerImage => 0;

    /// <summary>True when the layer may write its output over its input (same shape, elementwise);
    /// it must also work when the plan gives it a separate output (the input is read again later).</summary>
    internal virtual bool InPlace => false;

    /// <summary>True when the output is the input's memory, unchanged (flatten, dropout, reshape): the plan runs nothing.</summary>
    internal virtual bool IsView => false;

    /// <summary>True when the kernel a call takes depends on its batch size (<see cref="DenseProduct"/>), so its sums may round
    /// differently on a chunk of the batch: such a layer always sees the whole batch (<see cref="BatchChunking.MayChunk"/>).</summary>
    internal virtual bool WholeBatchOnly => false;

    /// <summary>Scratch floats one call needs for <paramref name="batch"/> images (shared by its threads; per-thread buffers come from ThreadScratch).</summary>
    internal virtual long ScratchFloats(int batch) => 0;

    /// <summary>Reads job.Input (and job.Inputs, for several), writes job.Output (maybe the input's buffer when
    /// <see cref="InPlace"/>), for job.Batch images.</summary>
    internal abstract void Forward(ParallelJob job, int threads);

    /// <summary>This op's training form (forward keeping what backward needs, and backward), built from this planned layer.
    /// Ops without one are inference-only: training refuses them by name.</summary>
    internal virtual TrainLayer ForTraining(TrainSetup setup) => throw new ModelFormatException($"{setup.Where}: {NotTrainable}.");

    /// <summary>Why <see cref="ForTraining"/> refuses this layer.</summary>
    private protected virtual string NotTrainable => $"layer type \"{Type}\" cannot be trained yet";

    public override string ToString() => Name is null ? Type : $"{Name} ({Type})";
}
