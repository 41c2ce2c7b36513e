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
        var canvas = new PixelCanvas(w * pixel, h * pixel, Rgb.Black);
        canvas.DrawStretched(0, 0, input, c, h, w, pixel, range.Min, range.Max - range.Min);
        return canvas.EncodePng();
    }
}
