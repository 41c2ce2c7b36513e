namespace CnnService.Imaging.Rendering;

/// <summary>
/// A layer's output [C, H, W] as pictures: one PNG per channel, or all channels in one mosaic,
/// every channel on the layer's shared <see cref="ColorScale"/>. Maps are scaled up by whole
/// pixels to about <see cref="DefaultSize"/> pixels a side, so a 7x7 map is as readable as a 28x28 one.
/// </summary>
public static class ActivationRenderer
{
    public const int DefaultSize = 96;
    public const int MaxPixel = 32;

    /// <summary>Pixels per value so that the longer side is about <paramref name="size"/> pixels.</summary>
    public static int PixelSize(int h, int w, int size = DefaultSize) => Math.Clamp(size / Math.Max(h, w), 1, MaxPixel);

    /// <summary>Channel <paramref name="channel"/> of [C, h, w] <paramref name="values"/> as a PNG.</summary>
    public static byte[] Channel(ReadOnlySpan<float> values, int channel, int h, int w, ColorScale scale, int pixel)
    {
        pixel = Math.Clamp(Math.Min(pixel, PixelCanvas.MaxSide / Math.Max(h, w)), 1, MaxPixel);
        var canvas = new PixelCanvas(w * pixel, h * pixel, ColorScale.Zero);
        canvas.DrawMap(0, 0, values.Slice(channel * h * w, h * w), h, w, pixel, scale);
        return canvas.EncodePng();
    }

    /// <summary>Every channel of [c, h, w] <paramref name="values"/> in one grid.</summary>
    public static byte[] Mosaic(ReadOnlySpan<float> values, int c, int h, int w, ColorScale scale, int pixel)
    {
        MosaicLayout layout = MosaicLayout.Grid(c, h, w, pixel);
        PixelCanvas canvas = layout.NewCanvas();
        for (int ch = 0; ch < c; ch++)
        {
            (int x, int y) = layout.Origin(ch);
            canvas.DrawMap(x, y, values.Slice(ch * h * w, h * w), h, w, layout.Pixel, scale);
        }

        return canvas.EncodePng();
    }
}
