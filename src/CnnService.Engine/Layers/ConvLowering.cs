namespace CnnService.Engine.Layers;

/// <summary>How a plain convolution runs (<see cref="Conv2D"/>): the choice the plan makes per layer, by its shape and
/// SIMD level, or by measurement (<see cref="Runtime.PlanMode.Measure"/>) among those its shape admits.</summary>
public enum ConvLowering
{
    /// <summary>1x1, unpadded: output channels in the lanes over the flat plane (<see cref="Kernels.PointwiseConv"/>; with AVX2,
    /// <see cref="Kernels.PointwiseGemm256"/>).</summary>
    Pointwise,

    /// <summary>Output channels in the lanes, a row at a time, no im2col (<see cref="Kernels.DirectConv"/>).</summary>
    Direct,

    /// <summary>One GEMM reading B in place from the padded input (<see cref="Kernels.ImplicitGemm"/>).</summary>
    ImplicitGemm,

    /// <summary>One GEMM with im2col panels packed on the fly (<see cref="Kernels.Im2ColPacker"/>): every shape, every SIMD level.</summary>
    Im2Col,

    /// <summary>3x3 at stride 1: Winograd's F(4x4, 3x3), 36 GEMMs in the transformed domain, a quarter of the multiply-adds
    /// (<see cref="Kernels.WinogradConv"/>; AVX2 transforms).</summary>
    Winograd,
}

public static class ConvLowerings
{
    /// <summary>The name <c>cnn info --plan</c> prints and a plan cache stores: pointwise, direct, implicit-gemm, im2col, winograd.</summary>
    public static string Name(this ConvLowering lowering) => lowering switch
    {
        ConvLowering.Pointwise => "pointwise",
        ConvLowering.Direct => "direct",
        ConvLowering.ImplicitGemm => "implicit-gemm",
        ConvLowering.Im2Col => "im2col",
        ConvLowering.Winograd => "winograd",
        _ => throw new ArgumentOutOfRangeException(nameof(lowering), lowering, null),
    };

    /// <summary>The lowering a <see cref="Name"/> names; false for any other text.</summary>
    public static bool TryParse(string? name, out ConvLowering lowering)
    {
        foreach (ConvLowering l in Enum.GetValues<ConvLowering>())
        {
            if (string.Equals(l.Name(), name, StringComparison.Ordinal))
            {
                lowering = l;
                return true;
            }
        }

        lowering = default;
        return false;
    }
}
