using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>Max pooling: each output is the largest value in its window (padding ignored, as minus infinity would be).</summary>
public sealed class MaxPool2D : Pool2D
{
    internal MaxPool2D(LayerSpec spec, string where, TensorShape input, SimdLevel simd)
        : base("maxpool2d", spec, where, input, simd, max: true)
    {
    }
}
