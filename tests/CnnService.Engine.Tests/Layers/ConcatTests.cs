using System.Text.Json.Nodes;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Layers;

public class ConcatTests
{
    private static readonly TensorShape Input = new(4, 5, 7);

    private static LayerSpec Slice(string name, int start, int end, string input = LayerSpec.ModelInput) =>
        new() { Type = "slice_channels", Name = name, Inputs = [input], Extra = new JsonObject { ["start"] = start, ["end"] = end } };

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 1)]
    [InlineData(17, 2)]   // 17 images on 2 threads: the batch is split across threads
    public void Concat_joins_its_inputs_channels_in_order(int n, int threads)
    {
        var spec = TestModels.Spec(Input,
            Slice("s", 1, 3),
            new LayerSpec { Type = "relu", Name = "r", Inputs = ["input"] },
            new LayerSpec { Type = "concat", Name = "cat", Inputs = ["s", "input", "r", "s"] });
        Model model = TestModels.Build(spec, Simd.Best, out _, threads);
        float[] x = TestModels.Random(n * Input.Size, seed: 60);
        float[] s = Reference.SliceChannels(x, n, Input, 1, 3), r = Reference.Map(x, v => Math.Max(v, 0));

        Assert.Equal(new TensorShape(12, 5, 7), model.OutputShape);
        Assert.Equal(Reference.Concat(n, (s, s.Length / n), (x, Input.Size), (r, Input.Size), (s, s.Length / n)), TestModels.Forward(model, x, n));
    }

    [Fact]
    public void Concat_of_one_input_is_a_copy()
    {
        Model model = TestModels.Build(TestModels.Spec(Input, new LayerSpec { Type = "concat" }), Simd.Best, out _);
        float[] x = TestModels.Random(2 * Input.Size, seed: 61);

        Assert.Equal(x, TestModels.Forward(model, x, 2));
    }

    [Fact]
    public void Concat_refuses_inputs_of_different_height_or_width()
    {
        var pool = new LayerSpec { Type = "maxpool2d", Name = "p", Kernel = new Pair(1, 2) };
        var cat = new LayerSpec { Type = "concat", Name = "cat", Inputs = ["input", "p"] };

        var e = Assert.Throws<ModelFormatException>(() => TestModels.Build(TestModels.Spec(Input, pool, cat), Simd.Best, out _));
        Assert.Contains("layer 1 (cat, concat): input 1 is [4,5,3] but input 0 is [4,5,7]", e.Message);
    }

    [Theory]
    [InlineData(0, 4)]
    [InlineData(0, 1)]
    [InlineData(3, 4)]
    [InlineData(1, 3)]
    public void Slice_channels_copies_the_range_of_every_image(int start, int end)
    {
        Model model = TestModels.Build(TestModels.Spec(Input, Slice("s", start, end)), Simd.Best, out _);
        float[] x = TestModels.Random(3 * Input.Size, seed: 62);

        Assert.Equal(new TensorShape(end - start, 5, 7), model.OutputShape);
        Assert.Equal(Reference.SliceChannels(x, 3, Input, start, end), TestModels.Forward(model, x, 3));
    }

    [Theory]
    [InlineData(2, 2, "\"end\" must be an integer from 3 to 4")]
    [InlineData(0, 5, "\"end\" must be an integer from 1 to 4")]
    [InlineData(-1, 2, "\"start\" must be an integer from 0 to 3")]
    [InlineData(4, 4, "\"start\" must be an integer from 0 to 3")]
    public void Slice_channels_refuses_a_range_outside_the_input(int start, int end, string message)
    {
        var e = Assert.Throws<ModelFormatException>(() => TestModels.Build(TestModels.Spec(Input, Slice("s", start, end)), Simd.Best, out _));
        Assert.Contains("layer 0 (s, slice_channels)", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Slice_channels_needs_start_and_end()
    {
        var slice = new LayerSpec { Type = "slice_channels", Name = "s", Extra = new JsonObject { ["start"] = 1 } };

        var e = Assert.Throws<ModelFormatException>(() => TestModels.Build(TestModels.Spec(Input, slice), Simd.Best, out _));
        Assert.Contains("needs \"start\" and \"end\"", e.Message);
    }

    [Fact]
    public void A_single_input_op_given_two_inputs_is_refused()
    {
        var relu = new LayerSpec { Type = "relu", Name = "r", Inputs = ["input", "input"] };

        var e = Assert.Throws<ModelFormatException>(() => TestModels.Build(TestModels.Spec(Input, relu), Simd.Best, out _));
        Assert.Contains("relu reads one input, got 2", e.Message);
    }
}
