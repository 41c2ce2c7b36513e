namespace CnnService.Imaging.Rendering;

/// <summary>How a layer's values become colours: diverging around zero for signed values, sequential from zero otherwise.</summary>
public enum ColorScaleKind
{
    /// <summary>Non-negative values: near-white at 0 to dark blue at the maximum.</summary>
    Sequential,

    /// <summary>Signed values: blue below zero, near-white at zero, red above, symmetric (the larger magnitude sets both ends).</summary>
    Diverging,
}

/// <summary>
/// One colour scale shared by every channel of a layer, so channels can be compared by eye: a
/// bright map is a strongly responding filter, not a rescaled faint one. Built from the finite
/// values only; NaN draws as zero and infinities clamp to the ends.
/// </summary>
public readonly record struct ColorScale(ColorScaleKind Kind, float Min, float Max)
{
    public static readonly Rgb Zero = new(0xf7, 0xf7, 0xf7);
    public static readonly Rgb Negative = new(0x21, 0x66, 0xac);
    public static readonly Rgb Positive = new(0xb2, 0x18, 0x2b);
    public static readonly Rgb High = new(0x08, 0x30, 0x6b);

    /// <summary>The scale for <paramref name="values"/>: diverging when any finite value is below zero.</summary>
    public static ColorScale Of(ReadOnlySpan<float> values)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (float v in values)
        {
            if (!float.IsFinite(v)) continue;
            if (v < min) min = v;
            if (v > max) max = v;
        }

        if (min > max) (min, max) = (0f, 0f);   // nothing finite
        return new ColorScale(min < 0 ? ColorScaleKind.Diverging : ColorScaleKind.Sequential, min, max);
    }

    /// <summary>The value mapped to the far end of the scale (both ends, when diverging).</summary>
    public float Limit => Kind == ColorScaleKind.Diverging ? MathF.Max(-Min, Max) : Max;

    public Rgb ColorOf(float value)
    {
        float limit = Limit;
        if (float.IsNaN(value) || !(limit > 0)) return Zero;
        float t = Math.Clamp(value / limit, -1f, 1f);
        if (Kind == ColorScaleKind.Sequential) return Rgb.Lerp(Zero, High, MathF.Max(t, 0f));
        return t < 0 ? Rgb.Lerp(Zero, Negative, -t) : Rgb.Lerp(Zero, Positive, t);
    }
}
