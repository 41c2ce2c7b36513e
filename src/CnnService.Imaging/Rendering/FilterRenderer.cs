namespace CnnService.Imaging.Rendering;

/// <summary>
/// A conv layer's kernels [M, C, kh, kw] as one mosaic, each kernel normalised on its own (a
/// kernel's pattern matters, not its magnitude). With 3 input channels a kernel is one RGB tile,
/// as AlexNet's famous first-layer figure shows them; otherwise each kernel is a row of C tiles
/// (one tile per filter when C is 1) on a diverging scale, so zero weights stay neutral.
/// </summary>
public static class FilterRenderer
{
    public const int DefaultTileSize = 30;

    public static int PixelSize(int kh, int kw, int tileSize = DefaultTileSize) => Math.Clamp(tileSize / Math.Max(kh, kw), 1, ActivationRenderer.MaxPixel);

    public static byte[] Render(ReadOnlySpan<float> weights, int m, int c, int kh, int kw, int pixel)
    {
        int k = c * kh * kw;
        if (weights.Length != m * k) throw new ArgumentException($"{weights.Length} weights for {m}x{c}x{kh}x{kw}.", nameof(weights));

        MosaicLayout layout = c is 1 or 3
            ? MosaicLayout.Grid(m, kh, kw, pixel)
            : MosaicLayout.Fit(m * c, columns: c, kh, kw, pixel);
        PixelCanvas canvas = layout.NewCanvas();
        for (int f = 0; f < m; f++)
        {
            ReadOnlySpan<float> kernel = weights.Slice(f * k, k);
            if (c == 3)
            {
                (int x, int y) = layout.Origin(f);
                DrawRgb(canvas, x, y, kernel, kh, kw, layout.Pixel);
                continue;
            }

            ColorScale scale = ColorScale.Of(kernel) with { Kind = ColorScaleKind.Diverging };
            for (int ch = 0; ch < c; ch++)
            {
                (int x, int y) = layout.Origin(f * c + ch);
                canvas.DrawMap(x, y, kernel.Slice(ch * kh * kw, kh * kw), kh, kw, layout.Pixel, scale);
            }
        }

        return canvas.EncodePng();
    }

    /// <summary>One [3, kh, kw] kernel as colour: min to 0, max to 255 over all three planes.</summary>
    private static void DrawRgb(PixelCanvas canvas, int x, int y, ReadOnlySpan<float> kernel, int kh, int kw, int pixel)
    {
        ColorScale range = ColorScale.Of(kernel);
        float span = range.Max - range.Min;
        int plane = kh * kw;
        for (int r = 0; r < kh; r++)
        {
            for (int col = 0; col < kw; col++)
            {
                int i = r * kw + col;
                var color = new Rgb(InputRenderer.Level(kernel[i], range.Min, span), InputRenderer.Level(kernel[plane + i], range.Min, span), InputRenderer.Level(kernel[2 * plane + i], range.Min, span));
                canvas.FillRect(x + col * pixel, y + r * pixel, pixel, pixel, color);
            }
        }
    }
}
