using CnnService.Imaging.Rendering;

namespace CnnService.Tests.Imaging.Rendering;

public class ColorScaleTests
{
    [Fact]
    public void Values_with_a_negative_get_a_diverging_scale_symmetric_around_zero()
    {
        ColorScale scale = ColorScale.Of([-2f, 0.5f, 1f]);

        Assert.Equal(ColorScaleKind.Diverging, scale.Kind);
        Assert.Equal((-2f, 1f), (scale.Min, scale.Max));
        Assert.Equal(2f, scale.Limit);
        Assert.Equal(ColorScale.Negative, scale.ColorOf(-2f));
        Assert.Equal(ColorScale.Zero, scale.ColorOf(0f));
        Assert.Equal(Rgb.Lerp(ColorScale.Zero, ColorScale.Positive, 0.5f), scale.ColorOf(1f));   // 1 is half of the limit 2
    }

    [Fact]
    public void Non_negative_values_get_a_sequential_scale_from_zero_to_the_maximum()
    {
        ColorScale scale = ColorScale.Of([0f, 3f, 6f]);

        Assert.Equal(ColorScaleKind.Sequential, scale.Kind);
        Assert.Equal(ColorScale.Zero, scale.ColorOf(0f));
        Assert.Equal(ColorScale.High, scale.ColorOf(6f));
        Assert.Equal(Rgb.Lerp(ColorScale.Zero, ColorScale.High, 0.5f), scale.ColorOf(3f));
    }

    [Fact]
    public void Non_finite_values_are_left_out_of_the_range_nan_draws_as_zero_and_infinity_clamps()
    {
        ColorScale scale = ColorScale.Of([float.NaN, float.PositiveInfinity, 1f, -1f]);

        Assert.Equal((-1f, 1f), (scale.Min, scale.Max));
        Assert.Equal(ColorScale.Zero, scale.ColorOf(float.NaN));
        Assert.Equal(ColorScale.Positive, scale.ColorOf(float.PositiveInfinity));
        Assert.Equal(ColorScale.Negative, scale.ColorOf(float.NegativeInfinity));
    }

    [Fact]
    public void An_all_zero_or_empty_layer_draws_every_value_as_zero()
    {
        Assert.Equal(ColorScale.Zero, ColorScale.Of([0f, 0f]).ColorOf(0f));
        Assert.Equal((0f, 0f), (ColorScale.Of([]).Min, ColorScale.Of([]).Max));
        Assert.Equal(ColorScale.Zero, ColorScale.Of([float.NaN]).ColorOf(5f));
    }
}
