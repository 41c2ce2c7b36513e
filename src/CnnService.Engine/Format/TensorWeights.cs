namespace CnnService.Engine.Format;

/// <summary>Tensors computed in memory (a convolution with a batchnorm folded into it, or planned again with another
/// lowering): the only ones the layer asks for, so nothing is checked for being taken.</summary>
internal sealed class TensorWeights(Dictionary<string, float[]> tensors) : IWeightSource
{
    public float[] Take(string name, params int[] shape) => tensors[name];

    public void Ignore(string name) { }

    public void EnsureAllTaken() { }
}
