namespace CnnService.Engine.Training;

/// <summary>
/// One tensor a training network owns: its values, the gradient the last backward pass left
/// for it, and whether the optimizer updates it (weights and biases) or the layer itself does
/// (batchnorm's running statistics). The name is the tensor's name in weights.safetensors.
/// </summary>
public sealed class Parameter
{
    public Parameter(string name, int[] shape, float[] value, bool trainable = true)
    {
        long count = 1;
        foreach (int d in shape) count *= d;
        if (value.Length != count) throw new ArgumentException($"{name}: {value.Length} values for shape [{string.Join(",", shape)}].", nameof(value));
        Name = name;
        Shape = shape;
        Value = value;
        Trainable = trainable;
        Grad = trainable ? new float[value.Length] : [];
    }

    public string Name { get; }
    public int[] Shape { get; }
    public float[] Value { get; }
    /// <summary>d loss / d value from the last backward pass (empty when not trainable).</summary>
    public float[] Grad { get; }
    public bool Trainable { get; }
    public int Length => Value.Length;
}
