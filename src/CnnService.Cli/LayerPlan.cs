namespace CnnService.Cli;

/// <summary>
/// How a loaded layer runs on this machine, in a few words: a convolution's kernel, its groups and the lowering the
/// engine chose for its shape and SIMD level (direct tiles, pointwise tiles, implicit GEMM, im2col, depthwise), and what
/// the load folded or fused into it. <c>cnn info --plan</c> and <c>cnn bench --per-layer</c> print it.
/// </summary>
internal static class LayerPlan
{
    public static string Describe(Engine.Layers.Layer layer)
    {
        if (layer is not Engine.Layers.IConvolution conv) return "";
        string detail = $"{conv.KernelHeight}x{conv.KernelWidth}";
        if (conv.Groups > 1) detail += conv.Groups == conv.InputShape.C ? " depthwise" : $" groups {conv.Groups}";
        if (layer is Engine.Layers.Conv2D plain) detail += " " + plain.Lowering;
        return detail;
    }
}
