using System.Text.Json.Nodes;
using CnnService.Engine.Format;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;
using CnnService.Explain;
using CnnService.Imaging.Rendering;
using CnnService.Tests.Support;

namespace CnnService.Tests.Explain;

/// <summary>The filters picture of a grouped or depthwise conv2d: each filter drawn with the C / groups channels it reads.</summary>
public sealed class GroupedFilterTests
{
    private static IConvolution Conv(int channels, int filters, int groups)
    {
        var spec = new ModelSpec
        {
            Name = "grouped",
            Input = new InputSpec { Channels = channels, Height = 8, Width = 8, Mean = new float[channels], Std = Enumerable.Repeat(1f, channels).ToArray() },
            Labels = [],
            Layers =
            [
                new LayerSpec
                {
                    Type = "conv2d", Name = "conv", Filters = filters, Kernel = Pair.Square(3), Padding = Padding.Of(1, 1),
                    Extra = JsonNode.Parse($$"""{ "groups": {{groups}} }""")!.AsObject(),
                },
            ],
        };
        Model model = Model.Create(spec, WeightInitializer.Initialize(spec, seed: 1));
        return (IConvolution)model.Layers[0];
    }

    [Fact]
    public void A_depthwise_layer_is_one_tile_per_filter_each_on_its_own_diverging_scale()
    {
        IConvolution conv = Conv(16, 16, 16);
        float[] weights = conv.CopyWeights();

        using var png = new Png(Explainer.Filters(conv));

        FilterLayout layout = FilterLayout.For(16, 1, 3, 3, FilterRenderer.PixelSize(3, 3));
        Assert.Equal((layout.Width, layout.Height), (png.Width, png.Height));
        ReadOnlySpan<float> kernel = weights.AsSpan(5 * 9, 9);
        ColorScale scale = ColorScale.Of(kernel) with { Kind = ColorScaleKind.Diverging };
        (int x, int y) = layout.Origin(5);
        Rgb expected = scale.ColorOf(kernel[4]);
        Assert.Equal((expected.R, expected.G, expected.B), png.At(x + layout.Pixel, y + layout.Pixel));
    }

    [Fact]
    public void A_grouped_layer_draws_each_filter_with_the_channels_of_its_group()
    {
        IConvolution conv = Conv(8, 12, 4);   // each filter reads 2 of the 8 channels

        using var png = new Png(Explainer.Filters(conv));

        FilterLayout layout = FilterLayout.For(12, 2, 3, 3, FilterRenderer.PixelSize(3, 3));
        Assert.Equal(2, conv.ChannelsPerFilter);
        Assert.Equal((layout.Width, layout.Height), (png.Width, png.Height));
    }
}
