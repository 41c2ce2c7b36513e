namespace CnnService.Imaging.Rendering;

/// <summary>
/// Where a conv layer's kernels go in its filter mosaic. Each filter is one block: a single tile (1 input
/// channel, or 3 drawn as one RGB tile), or its input channels' tiles in a near-square block, framed and
/// seamed in light grey. The blocks sit in a near-square grid (<see cref="Balanced"/>: 32 filters are 8 x 4, no empty tail
/// when the count allows) on a white background with a wide gap, so each filter reads as one unit, not as
/// one more square of a checkerboard.
/// </summary>
public sealed record FilterLayout(int Filters, int TileH, int TileW, int Pixel, int Channels, int ChannelColumns, int Columns)
{
    public static readonly Rgb Background = Rgb.Gray(0xff);

    /// <summary>The frame and seams of a block of channel tiles.</summary>
    public static readonly Rgb Seams = Rgb.Gray(0xb0);

    /// <summary>Pixels between the channel tiles of one filter.</summary>
    public const int Seam = 1;

    /// <summary>Pixels between filters and around the picture.</summary>
    public int Gap => Math.Max(Channels > 1 ? 5 : 3, Pixel);

    public int Rows => (Filters + Columns - 1) / Columns;
    public int ChannelRows => (Channels + ChannelColumns - 1) / ChannelColumns;
    public int BlockWidth => ChannelColumns * (TileW * Pixel + Seam) - Seam;
    public int BlockHeight => ChannelRows * (TileH * Pixel + Seam) - Seam;
    public int Width => Columns * (BlockWidth + Gap) + Gap;
    public int Height => Rows * (BlockHeight + Gap) + Gap;

    /// <summary>
    /// The layout of <paramref name="filters"/> kernels of <paramref name="tiles"/> tiles each (1 for a grey or RGB
    /// kernel, else the input channels), the pixel size lowered until it fits, or <see cref="RenderTooLargeException"/>.
    /// </summary>
    public static FilterLayout For(int filters, int tiles, int kh, int kw, int pixel)
    {
        if (filters < 1 || tiles < 1) throw new ArgumentOutOfRangeException(nameof(filters), "A filter mosaic needs at least one tile.");
        // A block of many channel tiles starts smaller, so the whole mosaic stays about the size of a one-tile one.
        int start = tiles == 1 ? pixel : Math.Clamp(pixel * 3 / Balanced(tiles), 2, Math.Max(pixel, 2));
        for (int p = Math.Max(start, 1); p >= 1; p--)
        {
            var layout = new FilterLayout(filters, kh, kw, p, tiles, Balanced(tiles), Balanced(filters));
            if ((long)layout.Width <= PixelCanvas.MaxSide && (long)layout.Height <= PixelCanvas.MaxSide) return layout;
        }

        throw new RenderTooLargeException($"{filters} filters of {tiles} tiles of {kh}x{kw} do not fit in {PixelCanvas.MaxSide}x{PixelCanvas.MaxSide} pixels.");
    }

    /// <summary>
    /// Columns for <paramref name="count"/> cells: the divisor of the count nearest its square root that makes the
    /// grid at most twice as wide as tall (so every row is full), else the rounded-up square root.
    /// </summary>
    public static int Balanced(int count)
    {
        int square = (int)Math.Ceiling(Math.Sqrt(count));
        for (int columns = square; columns <= 2 * square; columns++)
        {
            int rows = count / columns;
            if (count % columns == 0 && columns <= 2 * rows) return columns;
        }

        return square;
    }

    /// <summary>Top-left corner of channel tile <paramref name="channel"/> of filter <paramref name="filter"/>.</summary>
    public (int X, int Y) Origin(int filter, int channel = 0)
    {
        int x = Gap + filter % Columns * (BlockWidth + Gap) + channel % ChannelColumns * (TileW * Pixel + Seam);
        int y = Gap + filter / Columns * (BlockHeight + Gap) + channel / ChannelColumns * (TileH * Pixel + Seam);
        return (x, y);
    }

    /// <summary>A blank canvas, each block of several channel tiles already framed (the frame sits in the gap).</summary>
    public PixelCanvas NewCanvas()
    {
        var canvas = new PixelCanvas(Width, Height, Background);
        if (Channels == 1) return canvas;
        for (int f = 0; f < Filters; f++)
        {
            (int x, int y) = Origin(f);
            canvas.FillRect(x - 1, y - 1, BlockWidth + 2, BlockHeight + 2, Seams);
        }

        return canvas;
    }
}
