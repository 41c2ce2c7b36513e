using CnnService.Engine.Runtime;

namespace CnnService.Engine.Training;

/// <summary>
/// One layer of a training network: a forward pass that keeps what its backward pass needs,
/// and the backward pass that turns d loss / d output into d loss / d input and fills its
/// parameters' gradients. Unlike an inference layer it is mutable and single-owner: its weights
/// change every step and its caches (masks, argmax indices, batch statistics) belong to one
/// network. Buffers hold [batch, shape] in NCHW order and may be longer than that.
/// </summary>
public abstract class TrainLayer
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

    public override string ToString() => Name is null ? Type : $"{Name} ({Type})";
}
