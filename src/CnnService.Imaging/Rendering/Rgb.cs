namespace CnnService.Imaging.Rendering;

/// <summary>An opaque 8-bit colour.</summary>
public readonly record struct Rgb(byte R, byte G, byte B)
{
    public static readonly Rgb Black = new(0, 0, 0);

    public static Rgb Gray(byte level) => new(level, level, level);

    /// <summary>a at t = 0, b at t = 1, straight in sRGB (good enough for a legend-backed heat map).</summary>
    public static Rgb Lerp(Rgb a, Rgb b, float t) => new(Mix(a.R, b.R, t), Mix(a.G, b.G, t), Mix(a.B, b.B, t));

    private static byte Mix(byte a, byte b, float t) => (byte)MathF.Round(a + (b - a) * t);
}
