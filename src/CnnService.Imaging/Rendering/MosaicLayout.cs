namespace CnnService.Imaging.Rendering;

/// <summary>
/// Where the tiles of a mosaic go: a grid of <see cref="Columns"/> tiles of (tile height x tile
/// width) values, each value <see cref="Pixel"/> pixels square, separated by <see cref="Gap"/>
/// pixels of background. The pixel size shrinks until the picture fits <see cref="PixelCanvas.MaxSide"/>.
/// </summary>
public readonly record struct MosaicLayout(int Count, int Columns, int TileH, int TileW, int Pixel, int Gap)
{
    public static readonly Rgb Background = Rgb.Gray(0x9c);

    public int Rows => (Count + Columns - 1) / Columns;
    public int Width => Columns * (TileW * Pixel + Gap) + Gap;
    public int Height => Rows * (TileH * Pixel + Gap) + Gap;

    /// <summary>A roughly square grid, or rows of up to 32 cells for a vector (1 x 1 tiles).</summary>
    public static MosaicLayout Grid(int count, int tileH, int tileW, int pixel) =>
        Fit(count, tileH == 1 && tileW == 1 ? Math.Min(count, 32) : (int)Math.Ceiling(Math.Sqrt(count)), tileH, tileW, pixel);

    /// <summary>A grid with the given columns, the pixel size lowered until it fits, or <see cref="RenderTooLargeException"/>.</summary>
    public static MosaicLayout Fit(int count, int columns, int tileH, int tileW, int pixel)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), "A mosaic needs at least one tile.");
        columns = Math.Clamp(columns, 1, count);
        for (int p = Math.Max(pixel, 1); p >= 1; p--)
        {
            var layout = new MosaicLayout(count, columns, tileH, tileW, p, Gap: 2);
            if ((long)layout.Width <= PixelCanvas.MaxSide && (long)layout.Height <= PixelCanvas.MaxSide) return layout;
        }

        throw new RenderTooLargeException($"{count} tiles of {tileH}x{tileW} do not fit in {PixelCanvas.MaxSide}x{PixelCanvas.MaxSide} pixels.");
    }

    public (int X, int Y) Origin(int tile) =>
        (Gap + tile % Columns * (TileW * Pixel + Gap), Gap + tile / Columns * (TileH * Pixel + Gap));

    public PixelCanvas NewCanvas() => new(Width, Height, Background);
}
