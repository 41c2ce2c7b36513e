namespace CnnService.Imaging;

/// <summary>
/// RGB to grayscale with the ITU-R BT.601 luma weights 0.299, 0.587, 0.114, in the 16-bit fixed
/// point PIL uses for its "L" mode, so that a model trained on images read with
/// <c>Image.open(f).convert("L")</c> sees the same byte values here.
/// </summary>
public static class Luminance
{
    /// <summary>Writes one luminance byte per RGB pixel of <paramref name="image"/> into the first Width x Height bytes of <paramref name="destination"/>.</summary>
    public static void Of(DecodedImage image, Span<byte> destination)
    {
        ReadOnlySpan<byte> rgb = image.Rgb;
        Span<byte> gray = destination[..(image.Width * image.Height)];
        for (int i = 0, s = 0; i < gray.Length; i++, s += 3) gray[i] = Of(rgb[s], rgb[s + 1], rgb[s + 2]);
    }

    /// <summary>(19595 R + 38470 G + 7471 B + 0x8000) >> 16: the weights times 65536, rounded.</summary>
    public static byte Of(byte r, byte g, byte b) => (byte)((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
}
