namespace CnnService.Imaging.Rendering;

/// <summary>
/// The network's input [C, H, W] as the network sees it, after preprocessing and normalisation:
/// one channel as grey, three as RGB, both stretched from the smallest value to the largest;
/// any other channel count as a mosaic of its channels.
/// </summary>
public static class InputRenderer
{
    public static byte[] Render(ReadOnlySpan<float> input, int c, int h, int w, int pixel)
    {
        if (c is not (1 or 3)) return ActivationRenderer.Mosaic(input, c, h, w, ColorScale.Of(input), pixel);

        pixel = Math.Clamp(Math.Min(pixel, PixelCanvas.MaxSide / Math.Max(h, w)), 1, ActivationRenderer.MaxPixel);
        ColorScale range = ColorScale.Of(input);
        float span = range.Max - range.Min;
        int plane = h * w;
        var canvas = new PixelCanvas(w * pixel, h * pixel, Rgb.Black);
        for (int r = 0; r < h; r++)
        {
            for (int col = 0; col < w; col++)
            {
                int i = r * w + col;
                Rgb color = c == 1
                    ? Rgb.Gray(Level(input[i], range.Min, span))
                    : new Rgb(Level(input[i], range.Min, span), Level(input[plane + i], range.Min, span), Level(input[2 * plane + i], range.Min, span));
                canvas.FillRect(col * pixel, r * pixel, pixel, pixel, color);
            }
        }

        return canvas.EncodePng();
    }

    /// <summary>v from [min, min + span] to 0..255; a flat input is mid-grey.</summary>
    internal static byte Level(float v, float min, float span) =>
        span > 0 && float.IsFinite(v) ? (byte)MathF.Round(Math.Clamp((v - min) / span, 0f, 1f) * 255f) : (byte)128;
}
