using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Layers;

/// <summary>"channel_shuffle": [g, C/g] channels transposed to [C/g, g], as ShuffleNet's reshape-transpose-reshape.</summary>
public class ChannelShuffleTests
{
    [Theory]
    [InlineData(2, new[] { 0f, 3f, 1f, 4f, 2f, 5f })]
    [InlineData(3, new[] { 0f, 2f, 4f, 1f, 3f, 5f })]
    [InlineData(1, new[] { 0f, 1f, 2f, 3f, 4f, 5f })]
    [InlineData(6, new[] { 0f, 1f, 2f, 3f, 4f, 5f })]
    public void Six_channels_come_out_in_the_transposed_order(int groups, float[] expected)
    {
        Model model = Build(new TensorShape(6, 1, 1), groups, threads: 1);

        Assert.Equal(expected, TestModels.Forward(model, [0f, 1f, 2f, 3f, 4f, 5f], 1));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 2)]
    [InlineData(4, 1)]
    [InlineData(6, 2)]
    [InlineData(12, 2)]
    public void Shuffle_moves_whole_planes_as_the_reference_does(int groups, int threads)
    {
        var shape = new TensorShape(12, 5, 3);
        Model model = Build(shape, groups, threads);
        float[] x = TestModels.Random(3 * shape.Size, seed: 31);

        Assert.Equal(Reference.ChannelShuffle(x, 3, 12, 15, groups), TestModels.Forward(model, x, 3));
    }

    [Fact]
    public void Shuffling_by_g_then_by_c_over_g_restores_the_order()
    {
        var shape = new TensorShape(12, 2, 2);
        var spec = TestModels.Spec(shape,
            LayerJson.Parse("""{ "type": "channel_shuffle", "groups": 3 }"""), LayerJson.Parse("""{ "type": "channel_shuffle", "groups": 4 }"""));
        Model model = TestModels.Build(spec, Simd.Best, out _);
        float[] x = TestModels.Random(2 * shape.Size, seed: 32);

        Assert.Equal(x, TestModels.Forward(model, x, 2));
    }

    [Theory]
    [InlineData("""{ "type": "channel_shuffle", "name": "s" }""", "\"groups\" is required for channel_shuffle")]
    [InlineData("""{ "type": "channel_shuffle", "name": "s", "groups": 4 }""", "6 channels do not split into 4 groups")]
    [InlineData("""{ "type": "channel_shuffle", "name": "s", "groups": 0 }""", "\"groups\" must be an integer from 1 to 6")]
    [InlineData("""{ "type": "channel_shuffle", "name": "s", "groups": 12 }""", "\"groups\" must be an integer from 1 to 6")]
    [InlineData("""{ "type": "channel_shuffle", "name": "s", "groups": 2.5 }""", "\"groups\" must be an integer from 1 to 6")]
    public void Groups_that_do_not_divide_the_channels_are_refused(string json, string message)
    {
        var e = Assert.Throws<ModelFormatException>(() => TestModels.Build(TestModels.Spec(new TensorShape(6, 2, 2), LayerJson.Parse(json)), Simd.Best, out _));

        Assert.Contains("layer 0 (s, channel_shuffle)", e.Message);
        Assert.Contains(message, e.Message);
    }

    private static Model Build(TensorShape shape, int groups, int threads) =>
        TestModels.Build(TestModels.Spec(shape, LayerJson.Parse($$"""{ "type": "channel_shuffle", "groups": {{groups}} }""")), Simd.Best, out _, threads);
}
