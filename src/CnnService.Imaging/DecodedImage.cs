namespace CnnService.Imaging;

/// <summary>
/// A decoded image as the preprocessing sees it: 8-bit RGB, rows top to bottom, upright (the
/// file's EXIF orientation applied), with any transparency already composited on white.
/// One fixed representation keeps every later step to one case. Immutable.
/// </summary>
public sealed class DecodedImage
{
    private readonly byte[] _rgb;

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
    public ReadOnlySpan<byte> Rgb => _rgb;

    /// <summary>One pixel, for tests and diagnostics.</summary>
    public (byte R, byte G, byte B) Pixel(int x, int y)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height)
            throw new ArgumentOutOfRangeException(nameof(x), $"({x}, {y}) is outside the {Width} x {Height} image.");
        int i = (y * Width + x) * 3;
        return (_rgb[i], _rgb[i + 1], _rgb[i + 2]);
    }
}
