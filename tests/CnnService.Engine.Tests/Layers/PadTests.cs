using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Layers;

/// <summary>"pad": ONNX Pad on the spatial axes, in constant, reflect and edge modes.</summary>
public class PadTests
{
    // N, C, H, W, padding as written, top, left, bottom, right, mode, value
    public static readonly object[][] Cases =
    [
        [2, 3, 5, 7, "[1, 2, 3, 4]", 1, 2, 3, 4, "constant", 0f],
        [1, 2, 4, 3, "[2, 0, 0, 1]", 2, 0, 0, 1, "constant", -2.5f],
        [3, 2, 5, 6, "[1, 2]", 1, 2, 1, 2, "constant", 7f],
        [2, 3, 5, 7, "[4, 6, 4, 6]", 4, 6, 4, 6, "reflect", 0f],   // the most reflect allows: one less than each side
        [1, 4, 3, 4, "[0, 1, 2, 3]", 0, 1, 2, 3, "reflect", 0f],
        [2, 3, 5, 7, "[3, 9, 1, 2]", 3, 9, 1, 2, "edge", 0f],       // edge may pad past the input's size
        [1, 1, 1, 1, "2", 2, 2, 2, 2, "edge", 0f],                  // a single pixel repeated
        [2, 2, 3, 3, "0", 0, 0, 0, 0, "constant", 0f],              // no padding: a copy
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Pad_matches_the_cell_by_cell_definition(int n, int c, int h, int w, string padding, int top, int left, int bottom, int right, string mode, float value)
    {
        LayerSpec layer = LayerJson.Parse($$"""{ "type": "pad", "padding": {{padding}}, "mode": "{{mode}}", "value": {{value.ToString(System.Globalization.CultureInfo.InvariantCulture)}} }""");
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(c, h, w), layer), Simd.Best, out _, threads: 2);
        float[] x = TestModels.Random(n * c * h * w, seed: 30);

        Assert.Equal(new TensorShape(c, h + top + bottom, w + left + right), model.OutputShape);
        Assert.Equal(Reference.Pad(x, n, c, h, w, top, left, bottom, right, mode, value), TestModels.Forward(model, x, n));
    }

    [Theory]
    [InlineData("constant", new[] { 0f, 0f, 1f, 2f, 3f, 0f, 0f })]
    [InlineData("reflect", new[] { 3f, 2f, 1f, 2f, 3f, 2f, 1f })]   // numpy.pad(..., "reflect")
    [InlineData("edge", new[] { 1f, 1f, 1f, 2f, 3f, 3f, 3f })]      // numpy.pad(..., "edge")
    public void Modes_fill_a_row_as_numpy_pad_does(string mode, float[] expected)
    {
        LayerSpec layer = LayerJson.Parse($$"""{ "type": "pad", "padding": [0, 2, 0, 2], "mode": "{{mode}}" }""");
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(1, 1, 3), layer), Simd.Best, out _);

        Assert.Equal(expected, TestModels.Forward(model, [1f, 2f, 3f], 1));
    }

    [Fact]
    public void Mode_defaults_to_constant_zero()
    {
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(1, 1, 1), LayerJson.Parse("""{ "type": "pad", "padding": 1 }""")), Simd.Best, out _);

        Assert.Equal([0f, 0f, 0f, 0f, 5f, 0f, 0f, 0f, 0f], TestModels.Forward(model, [5f], 1));
    }

    [Theory]
    [InlineData("""{ "type": "pad", "name": "p", "padding": [0, 3, 0, 0], "mode": "reflect" }""", "reflect padding must be smaller than the input on each side: [0,3,0,0] on a 4x3 input")]
    [InlineData("""{ "type": "pad", "name": "p", "padding": [4, 0, 0, 0], "mode": "reflect" }""", "[4,0,0,0] on a 4x3 input")]
    [InlineData("""{ "type": "pad", "name": "p", "padding": "same" }""", "pad needs \"padding\" as [top, left, bottom, right]")]
    [InlineData("""{ "type": "pad", "name": "p", "padding": 1, "mode": "wrap" }""", "\"mode\" must be one of \"constant\", \"reflect\", \"edge\", got \"wrap\"")]
    [InlineData("""{ "type": "pad", "name": "p", "padding": 1, "value": "nan" }""", "\"value\" must be a finite number")]
    public void Impossible_pads_are_refused_naming_the_layer(string json, string message)
    {
        var e = Assert.Throws<ModelFormatException>(() => TestModels.Build(TestModels.Spec(new TensorShape(2, 4, 3), LayerJson.Parse(json)), Simd.Best, out _));

        Assert.Contains("layer 0 (p, pad)", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void A_pad_too_large_to_hold_is_refused_before_anything_is_allocated()
    {
        LayerSpec layer = LayerJson.Parse("""{ "type": "pad", "name": "p", "padding": 4096 }""");

        var e = Assert.Throws<ModelFormatException>(() => TestModels.Build(TestModels.Spec(new TensorShape(64, 8, 8), layer), Simd.Best, out _));
        Assert.Contains("p, pad", e.Message);
        Assert.Contains("larger than", e.Message);
    }
}
