using SkiaSharp;

namespace CnnService.Tests.Imaging.Support;

/// <summary>Encodes test images with Skia (PNG, JPEG, WebP), from RGB, RGBA or grayscale bytes (rows of width pixels, no padding).</summary>
internal static class SkiaEncoder
{
    public static byte[] Encode(byte[] rgb, int width, int height, SKEncodedImageFormat format, int quality = 90)
    {
        var rgba = new byte[width * height * 4];
        for (int i = 0; i < width * height; i++)
        {
            rgba[4 * i] = rgb[3 * i];
            rgba[4 * i + 1] = rgb[3 * i + 1];
            rgba[4 * i + 2] = rgb[3 * i + 2];
            rgba[4 * i + 3] = 255;
        }

        return EncodeRgba(rgba, width, height, format, quality, SKAlphaType.Opaque);
    }

    /// <summary>An 8-bit grayscale bitmap: PNG writes it as a one-channel file.</summary>
    public static byte[] EncodeGray(byte[] gray, int width, int height, SKEncodedImageFormat format, int quality = 90)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        gray.CopyTo(bitmap.GetPixelSpan());
        using SKData data = bitmap.Encode(format, quality) ?? throw new InvalidOperationException($"Skia cannot encode {format}.");
        return data.ToArray();
    }

    /// <summary>Unpremultiplied RGBA: colour and alpha independent, as PNG stores them.</summary>
    public static byte[] EncodeRgba(byte[] rgba, int width, int height, SKEncodedImageFormat format, int quality = 90,
        SKAlphaType alpha = SKAlphaType.Unpremul)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, alpha));
        rgba.CopyTo(bitmap.GetPixelSpan());
        using SKData data = bitmap.Encode(format, quality) ?? throw new InvalidOperationException($"Skia cannot encode {format}.");
        return data.ToArray();
    }
}
