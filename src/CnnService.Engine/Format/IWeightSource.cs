namespace CnnService.Engine.Format;

/// <summary>Where layers take their tensors from while a model is built: a safetensors file, or fresh random values.</summary>
public interface IWeightSource
{
    /// <summary>The tensor <paramref name="name"/>, which must have exactly <paramref name="shape"/>; marks it used.</summary>
    float[] Take(string name, params int[] shape);

    /// <summary>Marks an optional tensor used if present (PyTorch BatchNorm's num_batches_tracked).</summary>
    void Ignore(string name);

    /// <summary>Fails, naming them, if any tensors were never taken.</summary>
    void EnsureAllTaken();
}
