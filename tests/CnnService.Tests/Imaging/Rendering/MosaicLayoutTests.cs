using CnnService.Imaging.Rendering;

namespace CnnService.Tests.Imaging.Rendering;

public class MosaicLayoutTests
{
    [Fact]
    public void Channels_go_in_a_roughly_square_grid_with_gaps_between_tiles()
    {
        MosaicLayout layout = MosaicLayout.Grid(32, 26, 26, pixel: 3);

        Assert.Equal((6, 6), (layout.Columns, layout.Rows));
        Assert.Equal(6 * (78 + 2) + 2, layout.Width);
        Assert.Equal((2, 2), layout.Origin(0));
        Assert.Equal((2 + 80, 2 + 80), layout.Origin(7));
    }

    [Fact]
    public void A_vector_is_laid_out_in_rows_of_up_to_32_cells()
    {
        Assert.Equal((10, 1), (MosaicLayout.Grid(10, 1, 1, 8).Columns, MosaicLayout.Grid(10, 1, 1, 8).Rows));
        Assert.Equal((32, 4), (MosaicLayout.Grid(100, 1, 1, 8).Columns, MosaicLayout.Grid(100, 1, 1, 8).Rows));
    }

    [Fact]
    public void The_pixel_size_shrinks_until_the_picture_fits()
    {
        MosaicLayout layout = MosaicLayout.Grid(10_000, 1, 1, pixel: 32);

        Assert.True(layout.Pixel < 32);
        Assert.InRange(layout.Height, 1, PixelCanvas.MaxSide);
        Assert.True(MosaicLayout.Fit(10_000, 32, 1, 1, layout.Pixel + 1).Pixel == layout.Pixel, "the largest pixel size that fits is chosen");
    }

    [Fact]
    public void A_mosaic_that_cannot_fit_even_at_one_pixel_a_value_is_refused()
    {
        var error = Assert.Throws<RenderTooLargeException>(() => MosaicLayout.Grid(4, 5000, 5000, pixel: 1));
        Assert.Contains("4096", error.Message);
    }
}
