using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>Average pooling: each output is the mean of its window's cells inside the input (padding counted out), or,
/// with "count_include_pad": true, its sum divided by the window's cells inside the padded input (padding counted as zeros).</summary>
public sealed class AvgPool2D : Pool2D
{
    internal AvgPool2D(LayerSpec spec, string where, TensorShape input, SimdLevel simd)
        : base("avgpool2d", spec, where, input, simd, max: false)
    {
    }
}
