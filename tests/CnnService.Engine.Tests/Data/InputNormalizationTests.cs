using CnnService.Engine.Data;
using CnnService.Engine.Format;

namespace CnnService.Engine.Tests.Data;

public class InputNormalizationTests
{
    /// <summary>Two channels of 1x2 pixels, scale 1/255, mean [0.5, 0.25], std [0.5, 2].</summary>
    private static readonly InputSpec TwoChannels = new()
    {
        Channels = 2, Height = 1, Width = 2, Scale = 1f / 255, Mean = [0.5f, 0.25f], Std = [0.5f, 2f],
    };

    [Fact]
    public void Each_value_becomes_pixel_times_scale_minus_its_channels_mean_over_its_std()
    {
        float[] pixels = [0, 255, 51, 102];
        var destination = new float[4];

        InputNormalization.Apply(TwoChannels, pixels, destination);

        // (0/255 - 0.5)/0.5, (255/255 - 0.5)/0.5, (51/255 - 0.25)/2, (102/255 - 0.25)/2
        float[] expected = [-1f, 1f, -0.025f, 0.075f];
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], destination[i], 1e-6f);
    }

    [Fact]
    public void Several_items_are_normalised_channel_by_channel_each()
    {
        float[] pixels = [0, 255, 51, 102, 255, 0, 102, 51];
        var destination = new float[8];

        InputNormalization.Apply(TwoChannels, pixels, destination);

        float[] expected = [-1f, 1f, -0.025f, 0.075f, 1f, -1f, 0.075f, -0.025f];
        for (int i = 0; i < 8; i++) Assert.Equal(expected[i], destination[i], 1e-6f);
    }

    [Fact]
    public void Normalising_in_place_gives_the_same_values()
    {
        float[] pixels = [0, 255, 51, 102], copy = (float[])pixels.Clone();
        var separate = new float[4];

        InputNormalization.Apply(TwoChannels, copy, separate);
        InputNormalization.Apply(TwoChannels, pixels, pixels);

        Assert.Equal(separate, pixels);
    }

    [Fact]
    public void A_length_that_is_not_whole_items_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => InputNormalization.Apply(TwoChannels, new float[6], new float[6]));
        Assert.StartsWith("6 values are not a whole number of (2, 1, 2) items.", e.Message);
    }

    [Fact]
    public void Pixels_and_destination_of_different_lengths_are_refused()
    {
        Assert.Throws<ArgumentException>(() => InputNormalization.Apply(TwoChannels, new float[4], new float[8]));
    }
}
