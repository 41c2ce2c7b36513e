using CnnService.Engine.Format;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Layers;

/// <summary>"reshape": a new per-item shape over the same values, moving nothing.</summary>
public class ReshapeTests
{
    [Theory]
    [InlineData("[60]", 60, 1, 1)]
    [InlineData("[6, 10]", 6, 10, 1)]
    [InlineData("[15, 2, 2]", 15, 2, 2)]
    [InlineData("[3, 4, 5]", 3, 4, 5)]
    public void Reshape_gives_the_shape_asked_for_over_the_same_values(string shape, int c, int h, int w)
    {
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(3, 4, 5), LayerJson.Parse($$"""{ "type": "reshape", "shape": {{shape}} }""")), Simd.Best, out _);
        float[] x = TestModels.Random(2 * 60, seed: 40);

        Assert.Equal(new TensorShape(c, h, w), model.OutputShape);
        Assert.Equal(x, TestModels.Forward(model, x, 2));
    }

    [Fact]
    public void Reshape_is_a_view_that_runs_nothing()
    {
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(3, 4, 5), LayerJson.Parse("""{ "type": "reshape", "shape": [60] }""")), Simd.Best, out _);

        Assert.True(model.Layers[0] is Reshape { IsView: true });
    }

    [Fact]
    public void The_next_layer_reads_the_new_shape()
    {
        // [16] as [1, 4, 4], then a 2x2 max pool over that plane.
        var spec = TestModels.Spec(new TensorShape(16, 1, 1),
            LayerJson.Parse("""{ "type": "reshape", "shape": [1, 4, 4] }"""), LayerJson.Parse("""{ "type": "maxpool2d", "kernel": 2 }"""));
        Model model = TestModels.Build(spec, Simd.Best, out _);
        float[] x = TestModels.Random(3 * 16, seed: 41);

        Assert.Equal(Reference.Pool(x, 3, 1, 4, 4, 2, 2, 2, 2, 0, 0, 2, 2, max: true), TestModels.Forward(model, x, 3));
    }

    [Theory]
    [InlineData("""{ "type": "reshape", "name": "r", "shape": [7, 9] }""", "shape [7,9] holds 63 values, but the input [3,4,5] holds 60")]
    [InlineData("""{ "type": "reshape", "name": "r", "shape": [2147483647, 2147483647, 2147483647] }""", "holds 9903520300447984150353281023 values, but the input [3,4,5] holds 60")]
    [InlineData("""{ "type": "reshape", "name": "r" }""", "\"shape\" is required for reshape")]
    [InlineData("""{ "type": "reshape", "name": "r", "shape": [] }""", "got 0 dimensions")]
    [InlineData("""{ "type": "reshape", "name": "r", "shape": [1, 3, 4, 5] }""", "the batch is not part of it), got 4 dimensions")]
    [InlineData("""{ "type": "reshape", "name": "r", "shape": [-1, 5] }""", "\"shape\" must be a list of integers from 1 to")]
    [InlineData("""{ "type": "reshape", "name": "r", "shape": [0, 60] }""", "\"shape\" must be a list of integers from 1 to")]
    public void Shapes_that_do_not_hold_the_input_are_refused_naming_both(string json, string message)
    {
        var e = Assert.Throws<ModelFormatException>(() => TestModels.Build(TestModels.Spec(new TensorShape(3, 4, 5), LayerJson.Parse(json)), Simd.Best, out _));

        Assert.Contains("layer 0 (r, reshape)", e.Message);
        Assert.Contains(message, e.Message);
    }
}
