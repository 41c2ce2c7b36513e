using CnnService.Engine.Format;
using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>
/// A conv2d layer's "groups" and "dilation" (as ONNX and PyTorch export them), checked against its
/// input, and the choice of class that runs it: the tuned <see cref="Conv2D"/> for a plain
/// convolution, <see cref="DepthwiseConv2D"/> for one group per input channel, and
/// <see cref="GroupedConv2D"/> for everything else.
/// </summary>
internal readonly record struct ConvSettings(int Groups, Pair Dilation)
{
    /// <summary>Far beyond any real network; keeps the dilated span's arithmetic small.</summary>
    private const int MaxDilation = 1 << 16;

    public bool IsPlain => Groups == 1 && Dilation == new Pair(1, 1);

    public static ConvSettings Read(LayerSpec spec, string where, TensorShape input)
    {
        var attributes = new LayerAttributes(spec, where);
        int groups = attributes.Int("groups", 1, 1, int.MaxValue);
        Pair dilation = attributes.Pair("dilation", 1, MaxDilation) ?? new Pair(1, 1);
        if (input.C % groups != 0)
            throw new ModelFormatException($"{where}: \"groups\" {groups} does not divide the {input.C} input channels.");
        if (spec.Filters is int filters && filters > 0 && filters % groups != 0)
            throw new ModelFormatException($"{where}: \"groups\" {groups} does not divide the {filters} filters.");
        return new ConvSettings(groups, dilation);
    }

    /// <summary>Why training refuses a grouped or dilated convolution: its backward pass is not written yet.</summary>
    public static string NotTrainable(IConvolution conv) =>
        $"a conv2d with groups {conv.Groups} and dilation {conv.Dilation.H}x{conv.Dilation.W} cannot be trained yet (only groups 1, dilation 1)";

    public static Layer Create(LayerSpec spec, string where, TensorShape input, IWeightSource weights, SimdLevel simd, bool fuseRelu, ConvLowering? lowering = null)
    {
        ConvSettings settings = Read(spec, where, input);
        if (settings.IsPlain) return new Conv2D(spec, where, input, weights, simd, fuseRelu, lowering);
        if (lowering is not null) throw new ArgumentException($"{where}: a grouped or dilated convolution has one lowering; {lowering.Value.Name()} was asked for.", nameof(lowering));
        bool depthwise = settings.Groups == input.C && settings.Dilation == new Pair(1, 1) && spec.PaddingMode == "zeros"
            && spec.Kernel is { } k && (long)k.H * k.W <= DepthwiseConv.MaxTaps;
        return depthwise
            ? new DepthwiseConv2D(spec, where, input, weights, simd, fuseRelu)
            : new GroupedConv2D(spec, where, input, weights, simd, fuseRelu, settings);
    }
}
