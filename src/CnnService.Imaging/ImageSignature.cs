using System.Globalization;
using System.Text;

namespace CnnService.Imaging;

/// <summary>
/// Recognises the five accepted formats by their magic bytes, before Skia sees the data. Skia
/// knows more formats than we accept, and some of its sniffers are loose (WBMP matches almost
/// any file starting with two zero bytes); deciding here keeps the attack surface to five
/// well-exercised decoders and makes "not an image" (<see cref="ImageErrorKind.Unsupported"/>)
/// distinct from "an image that is broken" (<see cref="ImageErrorKind.Corrupt"/>).
/// </summary>
public static class ImageSignature
{
    /// <summary>The longest prefix <see cref="Detect"/> looks at (WebP's RIFF header).</summary>
    public const int Length = 12;

    private static ReadOnlySpan<byte> Png => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>The format whose signature <paramref name="data"/> starts with, or null.</summary>
    public static ImageFormat? Detect(ReadOnlySpan<byte> data)
    {
        if (data.StartsWith(Png)) return ImageFormat.Png;
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return ImageFormat.Jpeg;
        if (data.StartsWith("GIF87a"u8) || data.StartsWith("GIF89a"u8)) return ImageFormat.Gif;
        if (data.StartsWith("BM"u8)) return ImageFormat.Bmp;
        if (data.Length >= 12 && data.StartsWith("RIFF"u8) && data[8..12].SequenceEqual("WEBP"u8)) return ImageFormat.WebP;
        return null;
    }

    /// <summary>The format's usual name, for messages: "PNG", "JPEG", "GIF", "BMP", "WebP".</summary>
    public static string NameOf(ImageFormat format) => format switch
    {
        ImageFormat.Png => "PNG",
        ImageFormat.Jpeg => "JPEG",
        ImageFormat.Gif => "GIF",
        ImageFormat.Bmp => "BMP",
        ImageFormat.WebP => "WebP",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    /// <summary>The first bytes in hex, for a message about a file that is not an image: "68 65 6C 6C 6F 20 77 6F".</summary>
    internal static string Describe(ReadOnlySpan<byte> data)
    {
        var text = new StringBuilder();
        int n = Math.Min(data.Length, 8);
        for (int i = 0; i < n; i++)
        {
            if (i > 0) text.Append(' ');
            text.Append(data[i].ToString("X2", CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }
}
