using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>Dropout is the identity at inference (inverted dropout scales during training instead).</summary>
public sealed class Dropout : Layer
{
    internal Dropout(string? name, TensorShape input, float rate)
        : base("dropout", name, input, input)
    {
        Rate = rate;
    }

    public float Rate { get; }

    internal override bool InPlace => true;

    internal override void Forward(ParallelJob job, int threads)
    {
    }
}
