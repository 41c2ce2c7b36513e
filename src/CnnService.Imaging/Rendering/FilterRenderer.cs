namespace CnnService.Imaging.Rendering;

/// <summary>
/// A conv layer's kernels [M, C, kh, kw] as one mosaic, each kernel normalised on its own (a
/// kernel's pattern matters, not its magnitude). With 3 input channels a kernel is one RGB tile,
/// as AlexNet's famous first-layer figure shows them; otherwise each kernel is a block of C tiles
/// (one tile when C is 1) on a diverging scale, so zero weights stay neutral. <see cref="FilterLayout"/>
/// places them.
/// </summary>
public static class FilterRenderer
{
    public const int DefaultTileSize = 30;

    public static int PixelSize(int kh, int kw, int tileSize = DefaultTileSize) => Math.Clamp(tileSize / Math.Max(kh, kw), 1, ActivationRenderer.MaxPixel);

    public static byte[] Render(ReadOnlySpan<float> weights, int m, int c, int kh, int kw, int pixel)
    {
        int k = c * kh * kw;
        if (weights.Length != m * k) throw new ArgumentException($"{weights.Length} weights for {m}x{c}x{kh}x{kw}.", nameof(weights));

        FilterLayout layout = FilterLayout.For(m, c == 3 ? 1 : c, kh, kw, pixel);
        PixelCanvas canvas = layout.NewCanvas();
        for (int f = 0; f < m; f++)
        {
            ReadOnlySpan<float> kernel = weights.Slice(f * k, k);
            if (c == 3)
            {
                (int x, int y) = layout.Origin(f);
                ColorScale range = ColorScale.Of(kernel);
                canvas.DrawStretched(x, y, kernel, 3, kh, kw, layout.Pixel, range.Min, range.Max - range.Min);
                continue;
            }

            ColorScale scale = ColorScale.Of(kernel) with { Kind = ColorScaleKind.Diverging };
            for (int ch = 0; ch < c; ch++)
            {
                (int x, int y) = layout.Origin(f, ch);
                canvas.DrawMap(x, y, kernel.Slice(ch * kh * kw, kh * kw), kh, kw, layout.Pixel, scale);
            }
        }

        return canvas.EncodePng();
    }
}
