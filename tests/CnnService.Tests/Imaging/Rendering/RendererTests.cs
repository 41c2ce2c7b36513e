using CnnService.Imaging.Rendering;
using CnnService.Tests.Support;

namespace CnnService.Tests.Imaging.Rendering;

public class RendererTests
{
    [Fact]
    public void A_channel_is_scaled_up_by_whole_pixels_so_every_value_is_one_crisp_block()
    {
        float[] map = [-1f, 0f, 1f, 0.5f, 0f, 0f];   // 2 x 3
        ColorScale scale = ColorScale.Of(map);

        using var png = new Png(ActivationRenderer.Channel(map, 0, 2, 3, scale, pixel: 4));

        Assert.Equal((12, 8), (png.Width, png.Height));
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 12; x++)
                Assert.Equal(Tuple(scale.ColorOf(map[y / 4 * 3 + x / 4])), png.At(x, y));
    }

    [Fact]
    public void Pixel_size_makes_the_longer_side_about_the_requested_size()
    {
        Assert.Equal(3, ActivationRenderer.PixelSize(28, 28, 96));
        Assert.Equal(13, ActivationRenderer.PixelSize(7, 5, 96));
        Assert.Equal(1, ActivationRenderer.PixelSize(300, 300, 96));
        Assert.Equal(ActivationRenderer.MaxPixel, ActivationRenderer.PixelSize(1, 1, 512));
    }

    [Fact]
    public void A_mosaic_draws_each_channel_in_its_tile_on_one_shared_scale()
    {
        float[] values = [0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f];   // 2 channels of 2 x 2
        ColorScale scale = ColorScale.Of(values);

        using var png = new Png(ActivationRenderer.Mosaic(values, 2, 2, 2, scale, pixel: 1));

        MosaicLayout layout = MosaicLayout.Grid(2, 2, 2, 1);
        Assert.Equal((layout.Width, layout.Height), (png.Width, png.Height));
        (int x1, int y1) = layout.Origin(1);
        Assert.Equal(Tuple(scale.ColorOf(7f)), png.At(x1 + 1, y1 + 1));
        Assert.Equal(Tuple(MosaicLayout.Background), png.At(0, 0));
    }

    [Fact]
    public void Rgb_kernels_become_colour_tiles_stretched_over_each_kernels_own_range()
    {
        // One 3 x 1 x 1 kernel: red plane lowest, green middle, blue highest.
        using var png = new Png(FilterRenderer.Render([-0.5f, 0f, 0.5f], m: 1, c: 3, kh: 1, kw: 1, pixel: 4));

        (int x, int y) = FilterLayout.For(1, 1, 1, 1, 4).Origin(0);
        Assert.Equal(((byte)0, (byte)128, (byte)255), png.At(x, y));
    }

    [Fact]
    public void Kernels_of_many_input_channels_are_one_block_of_tiles_per_filter_on_a_diverging_scale()
    {
        // Two filters of 4 input channels, 1 x 1: filter 1 is ten times filter 0, yet both draw the same (each normalised).
        float[] weights = [1f, -1f, 0.5f, 0f, 10f, -10f, 5f, 0f];

        using var png = new Png(FilterRenderer.Render(weights, m: 2, c: 4, kh: 1, kw: 1, pixel: 2));

        FilterLayout layout = FilterLayout.For(2, 4, 1, 1, 2);
        Assert.Equal((2, 2), (layout.ChannelColumns, layout.ChannelRows));
        Assert.Equal((layout.Width, layout.Height), (png.Width, png.Height));
        for (int ch = 0; ch < 4; ch++)
            Assert.Equal(png.At(layout.Origin(0, ch).X, layout.Origin(0, ch).Y), png.At(layout.Origin(1, ch).X, layout.Origin(1, ch).Y));

        Assert.Equal(Tuple(ColorScale.Negative), png.At(layout.Origin(0, 1).X, layout.Origin(0, 1).Y));
        Assert.Equal(Tuple(ColorScale.Zero), png.At(layout.Origin(0, 3).X, layout.Origin(0, 3).Y));
    }

    [Fact]
    public void Thirty_two_filters_fill_an_eight_by_four_grid_with_no_empty_tail()
    {
        float[] weights = Enumerable.Range(0, 32 * 9).Select(i => MathF.Sin(i)).ToArray();

        using var png = new Png(FilterRenderer.Render(weights, m: 32, c: 1, kh: 3, kw: 3, pixel: 10));

        FilterLayout layout = FilterLayout.For(32, 1, 3, 3, 10);
        Assert.Equal((8, 4), (layout.Columns, layout.Rows));
        Assert.Equal((layout.Width, layout.Height), (png.Width, png.Height));
        (int x, int y) = layout.Origin(31);
        Assert.NotEqual(Tuple(FilterLayout.Background), png.At(x + 15, y + 15));   // the last cell holds a filter
        Assert.Equal(Tuple(FilterLayout.Background), png.At(x - 1, y + 15));        // and a white gap parts it from its neighbour
    }

    [Theory]
    [InlineData(64, 8)]
    [InlineData(6, 3)]
    [InlineData(16, 4)]
    [InlineData(1, 1)]
    [InlineData(7, 3)]   // prime: the near-square grid, with two cells left white
    public void Filter_grids_are_near_square_and_full_when_the_count_allows(int count, int columns)
    {
        Assert.Equal(columns, FilterLayout.Balanced(count));
    }

    [Fact]
    public void A_grey_input_is_stretched_from_black_at_its_minimum_to_white_at_its_maximum()
    {
        using var png = new Png(InputRenderer.Render([-1f, 1f, 0f, 1f], 1, 2, 2, pixel: 1));

        Assert.Equal(((byte)0, (byte)0, (byte)0), png.At(0, 0));
        Assert.Equal(((byte)255, (byte)255, (byte)255), png.At(1, 0));
        Assert.Equal(((byte)128, (byte)128, (byte)128), png.At(0, 1));
    }

    private static (byte, byte, byte) Tuple(Rgb c) => (c.R, c.G, c.B);
}
