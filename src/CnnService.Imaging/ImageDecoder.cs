using System.Buffers;
using SkiaSharp;

namespace CnnService.Imaging;

/// <summary>
/// Encoded bytes to a <see cref="DecodedImage"/>, defensively. In order: no bytes is
/// <see cref="ImageErrorKind.Empty"/>; a file that does not start like a PNG, JPEG, GIF, BMP or
/// WebP is <see cref="ImageErrorKind.Unsupported"/>; Skia's codec then reads only the header,
/// and a size of zero, or above <see cref="ImageLimits.MaxPixels"/>, is rejected before a pixel
/// buffer exists. Only then are the pixels decoded (a GIF's first frame; as stored, without
/// colour management, as PIL reads them for most training pipelines), turned upright by the EXIF
/// orientation and composited on white.
/// <para>
/// A caller that needs less than the full size (a model's 28 x 28 input, from a 12-megapixel photo)
/// may say so: JPEG and WebP can then be decoded at 1/2, 1/4 or 1/8 of their size (the JPEG
/// library scales in the DCT, an average over each block), ten times faster and smaller. The limit
/// still applies to the size the header declares.
/// </para>
/// <para>
/// A file whose data ends early is <see cref="ImageErrorKind.Corrupt"/> even when some rows
/// decoded: the missing rows would be made up (Skia fills them), and a prediction about a
/// half-uploaded image would look as confident as any other. The message says how far it got.
/// </para>
/// Stateless: any number of threads may decode at once.
/// </summary>
public static class ImageDecoder
{
    /// <summary>The reductions tried, smallest image first, where the format can decode scaled (JPEG, WebP).</summary>
    private static readonly float[] Reductions = [1 / 8f, 1 / 4f, 1 / 2f];

    /// <summary>Decodes <paramref name="encoded"/> at full size within <paramref name="limits"/>; throws <see cref="ImageDecodeException"/> otherwise.</summary>
    public static DecodedImage Decode(ReadOnlySpan<byte> encoded, ImageLimits limits) => Decode(encoded, limits, 0, 0);

    /// <summary>
    /// Decodes <paramref name="encoded"/> within <paramref name="limits"/>, possibly reduced (see the class summary) but
    /// never below <paramref name="minWidth"/> x <paramref name="minHeight"/> upright; 0, 0 is full size.
    /// </summary>
    public static DecodedImage Decode(ReadOnlySpan<byte> encoded, ImageLimits limits, int minWidth, int minHeight)
    {
        ArgumentNullException.ThrowIfNull(limits);
        if (encoded.IsEmpty) throw new ImageDecodeException(ImageErrorKind.Empty, "the image is empty (0 bytes)");
        ImageFormat format = ImageSignature.Detect(encoded)
            ?? throw new ImageDecodeException(ImageErrorKind.Unsupported,
                $"not a PNG, JPEG, GIF, BMP or WebP image ({encoded.Length:N0} bytes starting {ImageSignature.Describe(encoded)})");
        string name = ImageSignature.NameOf(format);

        using SKData data = SKData.CreateCopy(encoded);
        // The codec takes ownership of the stream (and frees it itself when creation fails).
        using SKCodec codec = SKCodec.Create(new SKMemoryStream(data), out SKCodecResult created)
            ?? throw new ImageDecodeException(ImageErrorKind.Corrupt, created == SKCodecResult.IncompleteInput
                ? $"{name} file is truncated: its {encoded.Length:N0} bytes end inside the header"
                : $"{name} header is invalid ({Describe(created)})");

        CheckSize(name, codec.Info.Width, codec.Info.Height, limits);
        SKEncodedOrigin origin = codec.EncodedOrigin;
        (int width, int height) = DecodeSize(codec, format, origin, minWidth, minHeight);
        byte[] rgba = ArrayPool<byte>.Shared.Rent(width * height * 4);
        try
        {
            DecodePixels(codec, name, width, height, rgba);
            Orientation orientation = Orientation.Of(origin, width, height);
            return new DecodedImage(format, orientation.Width, orientation.Height, ToUprightRgb(rgba, orientation));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rgba);
        }
    }

    /// <summary>The smallest size the codec can decode to that is still at least the minimum, upright; else the full size.</summary>
    private static (int Width, int Height) DecodeSize(SKCodec codec, ImageFormat format, SKEncodedOrigin origin, int minWidth, int minHeight)
    {
        int width = codec.Info.Width, height = codec.Info.Height;
        if (minWidth <= 0 || minHeight <= 0 || format is not (ImageFormat.Jpeg or ImageFormat.WebP)) return (width, height);
        bool turned = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        if (turned) (minWidth, minHeight) = (minHeight, minWidth);
        foreach (float reduction in Reductions)
        {
            SKSizeI size = codec.GetScaledDimensions(reduction);
            if (size.Width >= minWidth && size.Height >= minHeight && size.Width < width) return (size.Width, size.Height);
        }

        return (width, height);
    }

    /// <summary>Rejects what the header declares before anything is allocated for it.</summary>
    private static void CheckSize(string name, int width, int height, ImageLimits limits)
    {
        if (width <= 0 || height <= 0)
            throw new ImageDecodeException(ImageErrorKind.Corrupt, $"{name} header says {width} x {height} pixels; an image needs at least one");
        if (width < limits.MinSide || height < limits.MinSide)
            throw new ImageDecodeException(ImageErrorKind.TooSmall, $"{name} is {width} x {height} pixels; at least {limits.MinSide} x {limits.MinSide} is needed");
        long pixels = (long)width * height;
        if (pixels > limits.MaxPixels)
            throw new ImageDecodeException(ImageErrorKind.TooLarge, $"{name} header says {width} x {height} pixels; the limit is {limits.MaxPixels:N0}");
        if (pixels * 4 > Array.MaxLength)
            throw new ImageDecodeException(ImageErrorKind.TooLarge, $"{name} header says {width} x {height} pixels; more than one buffer can hold");
    }

    /// <summary>
    /// The pixels as stored, RGBA unpremultiplied. Decoded incrementally where Skia can (PNG, GIF),
    /// so that a truncated file's message says how many rows arrived; whole otherwise.
    /// </summary>
    private static unsafe void DecodePixels(SKCodec codec, string name, int width, int height, byte[] rgba)
    {
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        // Zeroed (transparent, so white once composited): a GIF frame smaller than its screen leaves the rest
        // untouched, and a pooled buffer must never show through with another image's pixels.
        rgba.AsSpan(0, width * height * 4).Clear();
        fixed (byte* pixels = rgba)
        {
            SKCodecResult result = codec.StartIncrementalDecode(info, (IntPtr)pixels, info.RowBytes);
            int rows = -1;
            if (result == SKCodecResult.Success) result = codec.IncrementalDecode(out rows);
            else if (result == SKCodecResult.Unimplemented) result = codec.GetPixels(info, (IntPtr)pixels, info.RowBytes, SKCodecOptions.Default);

            if (result == SKCodecResult.Success) return;
            if (result == SKCodecResult.IncompleteInput)
            {
                throw new ImageDecodeException(ImageErrorKind.Corrupt, rows switch
                {
                    < 0 => $"{name} file is truncated: its data ends before the last of its {height:N0} rows",
                    0 => $"{name} file is truncated: its data ends before the first of its {height:N0} rows",
                    _ => $"{name} file is truncated: its data ends after {rows:N0} of its {height:N0} rows",
                });
            }

            throw new ImageDecodeException(ImageErrorKind.Corrupt, $"{name} pixel data cannot be decoded ({Describe(result)})");
        }
    }

    /// <summary>Walks the stored RGBA pixels in upright order, compositing each on white: <c>c * a + 255 * (1 - a)</c>.</summary>
    private static byte[] ToUprightRgb(byte[] rgba, Orientation o)
    {
        byte[] rgb = ArrayPool<byte>.Shared.Rent(o.Width * o.Height * 3);
        int d = 0;
        for (int y = 0; y < o.Height; y++)
        {
            int s = o.Start + y * o.StepY;
            for (int x = 0; x < o.Width; x++, s += o.StepX, d += 3)
            {
                int i = s * 4, a = rgba[i + 3];
                if (a == 255)
                {
                    rgb[d] = rgba[i];
                    rgb[d + 1] = rgba[i + 1];
                    rgb[d + 2] = rgba[i + 2];
                }
                else
                {
                    int white = 255 * (255 - a) + 127;
                    rgb[d] = (byte)((rgba[i] * a + white) / 255);
                    rgb[d + 1] = (byte)((rgba[i + 1] * a + white) / 255);
                    rgb[d + 2] = (byte)((rgba[i + 2] * a + white) / 255);
                }
            }
        }

        return rgb;
    }

    private static string Describe(SKCodecResult result) => result switch
    {
        SKCodecResult.ErrorInInput or SKCodecResult.InvalidInput => "the data is malformed",
        SKCodecResult.IncompleteInput => "the data ends early",
        SKCodecResult.Unimplemented => "a feature of this file is not supported",
        _ => $"Skia: {result}",
    };
}
