using CnnService.Engine.Format;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Training;

/// <summary>
/// One layer of a training network: a forward pass that keeps what its backward pass needs,
/// and the backward pass that turns d loss / d output into d loss / d input and fills its
/// parameters' gradients. Unlike an inference layer it is mutable and single-owner: its weights
/// change every step and its caches (masks, argmax indices, batch statistics) belong to one
/// network. Buffers hold [batch, shape] in NCHW order and may be longer than that.
/// A training layer is the training form of an inference <see cref="Layer"/> (nested in that op's
/// class, beside its forward): the op reads its spec and infers its shape once, and where the
/// forward maths are the same in both forms the training form runs the op's own forward.
/// </summary>
public abstract unsafe class TrainLayer
{
    protected TrainLayer(string type, string? name, TensorShape input, TensorShape output)
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

    /// <summary>Tensors this layer owns, in the order weights.safetensors lists them.</summary>
    public virtual IReadOnlyList<Parameter> Parameters => [];

    /// <summary>Reads <paramref name="input"/>, writes <paramref name="output"/> for ctx.Batch images.</summary>
    public abstract void Forward(TrainContext ctx, float[] input, float[] output);

    /// <summary>
    /// Given the forward pass's <paramref name="input"/> and <paramref name="output"/> and
    /// <paramref name="dOutput"/>, writes <paramref name="dInput"/> (skipped when null: the
    /// first layer's input needs no gradient) and overwrites the parameters' gradients.
    /// </summary>
    public abstract void Backward(TrainContext ctx, float[] input, float[] output, float[] dOutput, float[]? dInput);

    /// <summary>
    /// The training form of <paramref name="spec"/> on its own, as the network would build it at position
    /// <paramref name="index"/> (without a fused ReLU): the op planned for <paramref name="input"/>, then asked for its training form.
    /// </summary>
    internal static TrainLayer Create(LayerSpec spec, int index, TensorShape input, IWeightSource weights, int maxBatch, int threads, SimdLevel? simd = null)
    {
        Layer layer = LayerFactory.Create(spec, index, [input], weights, simd ?? Simd.Best, fuseRelu: false);
        return layer.ForTraining(new TrainSetup($"model.json: {spec.Describe(index)}", index, weights, maxBatch, threads));
    }

    /// <summary>Runs <paramref name="layer"/>'s inference forward over the batch in <paramref name="input"/>: one forward, shared by both forms.</summary>
    protected static void RunForward(Layer layer, TrainContext ctx, float[] input, float[] output, float[]? scratch = null)
    {
        ParallelJob job = ctx.Job;
        fixed (float* x = input, y = output, s = scratch)
        {
            job.Input = x;
            job.Output = y;
            job.Scratch = s;
            job.Batch = ctx.Batch;
            job.Inputs[0] = (nint)x;
            layer.Forward(job, ctx.Threads);
        }
    }

    public override string ToString() => Name is null ? Type : $"{Name} ({Type})";
}
