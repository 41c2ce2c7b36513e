using CnnService.Engine.Layers;

namespace CnnService.Cli;

/// <summary>
/// How a loaded layer runs on this machine, in a few words: a convolution's kernel, its groups and the lowering the
/// engine chose for its shape and SIMD level (direct tiles, pointwise tiles, implicit GEMM, im2col, depthwise), and what
/// the load folded or fused into it ("gated": a squeeze-and-excitation gate scales its weights; "#5 in bands": a depthwise layer
/// runs the expansion before it, layer 5, a band of rows at a time); a concat whose parts a
/// pass of one image writes in place says so.
/// <c>cnn info --plan</c> and <c>cnn bench --per-layer</c> print it.
/// </summary>
internal static class LayerPlan
{
    public static string Describe(Engine.Runtime.Model model, int index)
    {
        Engine.Layers.Layer layer = model.Layers[index];
        if (layer is Engine.Layers.Concat) return model.RunsLayer(index, batch: 1) ? "" : "in place at batch 1";
        if (layer is not Engine.Layers.IConvolution conv) return "";
        string detail = $"{conv.KernelHeight}x{conv.KernelWidth}";
        if (conv.Groups > 1) detail += conv.Groups == conv.InputShape.C ? " depthwise" : $" groups {conv.Groups}";
        Engine.Layers.Layer running = model.RunningLayer(index);
        if (running is Engine.Layers.Conv2D plain) detail += " " + plain.Lowering + (plain.Gated ? ", gated" : "");
        if (running is Engine.Layers.GroupedConv2D grouped) detail += grouped.Direct ? " direct" : " im2col";
        if (running is Engine.Layers.DepthwiseConv2D { Expansion: { } expansion })
            for (int j = 0; j < index; j++)
                if (ReferenceEquals(model.RunningLayer(j), expansion)) detail += $", #{j} in bands";
        return detail;
    }

    /// <summary>A measured plan's times for layer <paramref name="index"/>, the one kept marked: "direct 0.412*, implicit-gemm 0.455,
    /// im2col 0.980"; "" where nothing was measured.</summary>
    public static string Measured(Engine.Runtime.Model model, int index) =>
        model.MeasuredPlan.TryGetValue(index, out Engine.Runtime.LoweringChoice? choice)
            ? string.Join(", ", choice.Milliseconds.OrderBy(e => e.Value).Select(e =>
                $"{e.Key.Name()} {e.Value.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)}{(e.Key == choice.Lowering ? "*" : "")}"))
            : "";

    /// <summary>How the plan was chosen, in one line: "fixed (by shape)", or what a measured plan did.</summary>
    public static string Summary(Engine.Runtime.Model model)
    {
        if (model.Options.Plan == Engine.Runtime.PlanMode.Fixed) return "fixed (each convolution's lowering by its shape)";
        var tally = Engine.Runtime.PlanTally.Of(model.MeasuredPlan);
        string cache = model.Options.PlanCache?.Path is { } path ? $", cache {path}" : "";
        return $"measured: {tally.Measured} convolutions with a choice, {tally.Changed} not the fixed one, {tally.FromCache} from the cache{cache}";
    }
}
