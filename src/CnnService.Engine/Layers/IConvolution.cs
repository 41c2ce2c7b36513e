using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>
/// What every conv2d layer tells the service (explain, filters, info) and the model plan (ReLU
/// fusion), whichever class runs it: <see cref="Conv2D"/>, <see cref="DepthwiseConv2D"/> or
/// <see cref="GroupedConv2D"/>.
/// </summary>
public interface IConvolution
{
    string? Name { get; }
    TensorShape InputShape { get; }
    TensorShape OutputShape { get; }

    int KernelHeight { get; }
    int KernelWidth { get; }

    /// <summary>Input and output channels split into this many independent groups (1: a plain convolution).</summary>
    int Groups { get; }

    /// <summary>Spacing between the kernel's taps ((1, 1): adjacent).</summary>
    Pair Dilation { get; }

    /// <summary>Input channels each filter reads: C / <see cref="Groups"/>.</summary>
    int ChannelsPerFilter => InputShape.C / Groups;

    /// <summary>A copy of the kernels, [filters, C / groups, kh, kw] as PyTorch stores them.</summary>
    float[] CopyWeights();

    /// <summary>The ReLU after this layer runs inside it.</summary>
    bool FusedRelu { get; }
}
