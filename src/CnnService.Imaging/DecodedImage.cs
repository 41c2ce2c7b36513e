using System.Buffers;

namespace CnnService.Imaging;

/// <summary>
/// A decoded image as the preprocessing sees it: 8-bit RGB, rows top to bottom, upright (the
/// file's EXIF orientation applied), with any transparency already composited on white.
/// One fixed representation keeps every later step to one case.
/// <para>
/// The pixels live in a buffer rented from <see cref="ArrayPool{T}.Shared"/>: a photo's buffer is
/// tens of megabytes, and on a VM a fresh one costs more in page faults than decoding into it.
/// Dispose returns it (reading the pixels afterwards throws); an image never disposed is simply
/// collected. Not for sharing between threads while one of them may dispose it.
/// </para>
/// </summary>
public sealed class DecodedImage : IDisposable
{
    private byte[]? _rgb;

    internal DecodedImage(ImageFormat format, int width, int height, byte[] rgb)
    {
        Format = format;
        Width = width;
        Height = height;
        _rgb = rgb;
    }

    /// <summary>The encoding the pixels came from.</summary>
    public ImageFormat Format { get; }

    public int Width { get; }
    public int Height { get; }

    /// <summary>Width x Height pixels of three bytes, R, G, B, row after row.</summary>
    public ReadOnlySpan<byte> Rgb => (_rgb ?? throw new ObjectDisposedException(nameof(DecodedImage))).AsSpan(0, Width * Height * 3);

    /// <summary>One pixel, for tests and diagnostics.</summary>
    public (byte R, byte G, byte B) Pixel(int x, int y)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height)
            throw new ArgumentOutOfRangeException(nameof(x), $"({x}, {y}) is outside the {Width} x {Height} image.");
        ReadOnlySpan<byte> rgb = Rgb;
        int i = (y * Width + x) * 3;
        return (rgb[i], rgb[i + 1], rgb[i + 2]);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _rgb, null) is byte[] rgb) ArrayPool<byte>.Shared.Return(rgb);
    }
}
