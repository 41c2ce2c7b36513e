using SkiaSharp;

namespace CnnService.Imaging.Rendering;

/// <summary>
/// An RGB picture drawn value by value and encoded to PNG at the end. Each value is a square
/// block of pixels written by hand, which is exactly nearest-neighbour scaling: the pixels stay
/// crisp at any size, with no resampler to blur them.
/// </summary>
public sealed class PixelCanvas
{
    /// <summary>Largest side of any picture drawn here, so a request cannot ask for a gigapixel PNG.</summary>
    public const int MaxSide = 4096;

    private readonly byte[] _rgba;

    public PixelCanvas(int width, int height, Rgb background)
    {
        if (width < 1 || height < 1 || width > MaxSide || height > MaxSide)
            throw new RenderTooLargeException($"A {width}x{height} picture is outside 1..{MaxSide} pixels a side.");
        Width = width;
        Height = height;
        _rgba = new byte[width * height * 4];
        FillRect(0, 0, width, height, background);
    }

    public int Width { get; }
    public int Height { get; }

    public void FillRect(int x, int y, int width, int height, Rgb color)
    {
        for (int row = y; row < y + height; row++)
        {
            Span<byte> line = _rgba.AsSpan((row * Width + x) * 4, width * 4);
            for (int i = 0; i < line.Length; i += 4)
            {
                line[i] = color.R;
                line[i + 1] = color.G;
                line[i + 2] = color.B;
                line[i + 3] = 255;
            }
        }
    }

    /// <summary>Draws an h x w grid of values, each a <paramref name="pixel"/>-sized square, with its top-left corner at (x, y).</summary>
    public void DrawMap(int x, int y, ReadOnlySpan<float> map, int h, int w, int pixel, ColorScale scale)
    {
        for (int r = 0; r < h; r++)
            for (int c = 0; c < w; c++)
                FillRect(x + c * pixel, y + r * pixel, pixel, pixel, scale.ColorOf(map[r * w + c]));
    }

    /// <summary>
    /// Draws [channels, h, w] values (1 channel: grey; 3: RGB), each a <paramref name="pixel"/>-sized square,
    /// stretched linearly so <paramref name="min"/> is 0 and min + <paramref name="span"/> is 255; a flat
    /// range or a non-finite value is mid-grey.
    /// </summary>
    public void DrawStretched(int x, int y, ReadOnlySpan<float> planes, int channels, int h, int w, int pixel, float min, float span)
    {
        int plane = h * w;
        for (int r = 0; r < h; r++)
        {
            for (int c = 0; c < w; c++)
            {
                int i = r * w + c;
                Rgb color = channels == 1
                    ? Rgb.Gray(Level(planes[i], min, span))
                    : new Rgb(Level(planes[i], min, span), Level(planes[plane + i], min, span), Level(planes[2 * plane + i], min, span));
                FillRect(x + c * pixel, y + r * pixel, pixel, pixel, color);
            }
        }
    }

    private static byte Level(float v, float min, float span) =>
        span > 0 && float.IsFinite(v) ? (byte)MathF.Round(Math.Clamp((v - min) / span, 0f, 1f) * 255f) : (byte)128;

    public byte[] EncodePng()
    {
        var info = new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using SKImage image = SKImage.FromPixelCopy(info, _rgba, Width * 4);
        using SKData data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
