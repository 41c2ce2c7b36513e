using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Layers;

/// <summary>Pooling's ONNX settings: [top, left, bottom, right] padding, "ceil_mode", and avgpool2d's "count_include_pad".</summary>
public class PoolingModesTests
{
    // Output sizes PyTorch 1.13's max_pool2d gives for an H x H input: H, kernel, stride, padding, with ceil_mode, without.
    [Theory]
    [InlineData(112, 3, 2, 0, 56, 55)]  // GoogLeNet's maxpool1
    [InlineData(56, 3, 2, 0, 28, 27)]   // GoogLeNet's maxpool2
    [InlineData(28, 3, 2, 0, 14, 13)]   // GoogLeNet's maxpool3
    [InlineData(14, 2, 2, 0, 7, 7)]     // GoogLeNet's maxpool4
    [InlineData(28, 3, 1, 1, 28, 28)]   // GoogLeNet's inception pool branch
    [InlineData(109, 3, 2, 0, 54, 54)]  // SqueezeNet 1.0's first pool
    [InlineData(54, 3, 2, 0, 27, 26)]   // SqueezeNet 1.0's second pool
    [InlineData(27, 3, 2, 0, 13, 13)]
    [InlineData(112, 3, 2, 1, 57, 56)]  // 3x3 stride 2 with padding 1
    [InlineData(6, 3, 2, 1, 4, 3)]
    [InlineData(13, 2, 2, 0, 7, 6)]     // an odd size: a last window over one row
    [InlineData(5, 2, 2, 1, 3, 3)]      // ceil would give 4, but that window would start in the bottom padding: dropped
    public void Output_size_follows_pytorch_with_and_without_ceil_mode(int h, int kernel, int stride, int padding, int ceil, int floor)
    {
        foreach ((bool ceilMode, int expected) in new[] { (true, ceil), (false, floor) })
        {
            LayerSpec layer = Layer("maxpool2d", kernel, stride, $"{padding}", ceilMode, includePad: null);
            Model model = TestModels.Build(TestModels.Spec(new TensorShape(1, h, h), layer), Simd.Best, out _);

            Assert.Equal(new TensorShape(1, expected, expected), model.OutputShape);
            Assert.Equal(expected, Reference.PoolOutput(h, kernel, stride, padding, padding, ceilMode));
        }
    }

    // Values PyTorch 1.13 gives on the 6x6 plane 1..36: the reference below is held to them.
    [Theory]
    [InlineData("maxpool2d", 0, null, new[] { 15f, 17f, 18f, 27f, 29f, 30f, 33f, 35f, 36f })]
    [InlineData("avgpool2d", 0, true, new[] { 8f, 10f, 11.5f, 20f, 22f, 23.5f, 29f, 31f, 32.5f })]
    [InlineData("avgpool2d", 1, true, new[] { 2f, 4f, 5.333333f, 3f, 9f, 15f, 17f, 9f, 17f, 27f, 29f, 15f, 10.5f, 16.5f, 17.5f, 9f })]
    [InlineData("avgpool2d", 1, false, new[] { 4.5f, 6f, 8f, 9f, 13.5f, 15f, 17f, 18f, 25.5f, 27f, 29f, 30f, 31.5f, 33f, 35f, 36f })]
    public void Ceil_mode_windows_match_pytorch_on_a_known_plane(string type, int padding, bool? includePad, float[] expected)
    {
        float[] x = Enumerable.Range(1, 36).Select(v => (float)v).ToArray();
        int o = expected.Length == 9 ? 3 : 4;

        foreach (SimdLevel simd in TestModels.SimdLevels().Select(l => (SimdLevel)l[0]))
        {
            Model model = TestModels.Build(TestModels.Spec(new TensorShape(1, 6, 6), Layer(type, 3, 2, $"{padding}", ceilMode: true, includePad)), simd, out _);
            TestModels.AssertClose(expected, TestModels.Forward(model, x, 1), 1e-6f);
        }

        TestModels.AssertClose(expected, Reference.Pool(x, 1, 1, 6, 6, 3, 3, 2, 2, padding, padding, padding, padding, o, o, type == "maxpool2d", includePad ?? false), 1e-6f);
    }

    // N, C, H, W, kernel [h, w], stride [h, w], padding as written (top, left, bottom, right), ceil_mode
    public static readonly object[][] Cases =
    [
        [2, 3, 15, 15, 3, 3, 2, 2, 0, 0, 0, 0, true],    // GoogLeNet / SqueezeNet: 3x3 stride 2 ceil_mode, odd size
        [2, 3, 14, 14, 3, 3, 2, 2, 0, 0, 0, 0, true],    // even size: the last window hangs over the edge
        [2, 3, 14, 15, 3, 3, 2, 2, 1, 1, 1, 1, true],    // 3x3 stride 2 ceil_mode with padding 1
        [1, 2, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1, true],    // GoogLeNet's inception pool branch
        [17, 2, 13, 13, 2, 2, 2, 2, 0, 0, 0, 0, true],   // 2x2 ceil_mode on an odd plane: not the 2x2 fast path
        [3, 2, 13, 14, 2, 2, 2, 2, 0, 0, 0, 0, true],    // odd height only
        [2, 3, 9, 11, 2, 2, 2, 2, 0, 0, 1, 1, false],    // TensorFlow "same": padding on the bottom and right only
        [2, 3, 9, 11, 3, 3, 2, 2, 1, 0, 0, 1, true],     // asymmetric padding with ceil_mode
        [2, 3, 10, 7, 3, 2, 3, 1, 1, 1, 0, 0, true],     // rectangular kernel and stride
        [1, 2, 5, 5, 2, 2, 2, 2, 1, 1, 1, 1, true],      // the dropped last window
        [2, 4, 11, 11, 3, 3, 1, 1, 1, 1, 1, 1, false],   // stride 1, padding 1, floor
        [1, 64, 111, 111, 3, 3, 2, 2, 0, 0, 0, 0, true], // SqueezeNet's first pool at batch 1: the two threads split its rows
        [1, 64, 112, 112, 3, 3, 2, 2, 1, 1, 1, 1, false], // ResNet's, padded: the band boundary inside a window's rows
        [1, 128, 56, 56, 2, 2, 2, 2, 0, 0, 0, 0, false], // the 2x2 path, rows split
        [1, 512, 27, 27, 2, 2, 2, 2, 0, 0, 0, 0, false], // the 2x2 path on an odd plane (the last input row unread), rows split
    ];

    public static IEnumerable<object[]> CasesBothWays() =>
        from level in TestModels.SimdLevels()
        from c in Cases
        from mode in new[] { "max", "avg-exclude", "avg-include" }
        select c.Append(mode).Append(level[0]).ToArray();

    [Theory]
    [MemberData(nameof(CasesBothWays))]
    public void Forward_matches_the_cell_by_cell_reference(int n, int c, int h, int w, int kh, int kw, int sh, int sw,
        int top, int left, int bottom, int right, bool ceilMode, string mode, SimdLevel simd)
    {
        bool max = mode == "max", includePad = mode == "avg-include";
        string padding = $"[{top}, {left}, {bottom}, {right}]";
        string json = $$"""{ "type": "{{(max ? "maxpool2d" : "avgpool2d")}}", "kernel": [{{kh}}, {{kw}}], "stride": [{{sh}}, {{sw}}], "padding": {{padding}}, "ceil_mode": {{(ceilMode ? "true" : "false")}}{{(max ? "" : $", \"count_include_pad\": {(includePad ? "true" : "false")}")}} }""";
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(c, h, w), LayerJson.Parse(json)), simd, out _, threads: 2);
        float[] x = TestModels.Random(n * c * h * w, seed: 50, scale: 3f);
        int oh = Reference.PoolOutput(h, kh, sh, top, bottom, ceilMode), ow = Reference.PoolOutput(w, kw, sw, left, right, ceilMode);

        Assert.Equal(new TensorShape(c, oh, ow), model.OutputShape);
        TestModels.AssertClose(Reference.Pool(x, n, c, h, w, kh, kw, sh, sw, top, left, bottom, right, oh, ow, max, includePad), TestModels.Forward(model, x, n));
    }

    [Fact]
    public void Count_include_pad_defaults_to_false_as_avgpool2d_always_counted()
    {
        // One pixel of 4 with padding 1: every 2x2 window holds it and three padding cells.
        float[] without = Forward(Layer("avgpool2d", 2, 1, "1", ceilMode: false, includePad: null), new TensorShape(1, 1, 1), [4f]);
        float[] excluded = Forward(Layer("avgpool2d", 2, 1, "1", ceilMode: false, includePad: false), new TensorShape(1, 1, 1), [4f]);
        float[] included = Forward(Layer("avgpool2d", 2, 1, "1", ceilMode: false, includePad: true), new TensorShape(1, 1, 1), [4f]);

        Assert.Equal([4f, 4f, 4f, 4f], without);
        Assert.Equal(without, excluded);
        Assert.Equal([1f, 1f, 1f, 1f], included);
    }

    [Fact]
    public void Max_pooling_padding_never_wins_over_negative_values()
    {
        var shape = new TensorShape(1, 4, 4);
        float[] x = Enumerable.Repeat(-5f, 16).ToArray();

        float[] y = Forward(Layer("maxpool2d", 3, 2, "1", ceilMode: true, includePad: null), shape, x);
        Assert.All(y, v => Assert.Equal(-5f, v));
    }

    [Fact]
    public void Max_pooling_ignores_count_include_pad()
    {
        var shape = new TensorShape(2, 5, 5);
        float[] x = TestModels.Random(shape.Size, seed: 51);

        Assert.Equal(Forward(Layer("maxpool2d", 3, 2, "1", ceilMode: true, includePad: null), shape, x),
            Forward(Layer("maxpool2d", 3, 2, "1", ceilMode: true, includePad: true), shape, x));
    }

    [Theory]
    [InlineData("""{ "type": "maxpool2d", "name": "p", "kernel": 3, "stride": 2, "ceil_mode": 1 }""", "\"ceil_mode\" must be true or false, got 1")]
    [InlineData("""{ "type": "avgpool2d", "name": "p", "kernel": 3, "stride": 2, "count_include_pad": "yes" }""", "\"count_include_pad\" must be true or false")]
    [InlineData("""{ "type": "maxpool2d", "name": "p", "kernel": 2, "padding": [0, 0, 2, 0], "ceil_mode": true }""", "padding must be at most half the kernel")]
    [InlineData("""{ "type": "avgpool2d", "name": "p", "kernel": 9, "stride": 2, "ceil_mode": true }""", "kernel 9 is larger than the padded input 7x7")]
    public void Impossible_pooling_settings_are_refused_naming_the_layer(string json, string message)
    {
        var e = Assert.Throws<ModelFormatException>(() => TestModels.Build(TestModels.Spec(new TensorShape(1, 7, 7), LayerJson.Parse(json)), Simd.Best, out _));

        Assert.Contains("layer 0 (p, ", e.Message);
        Assert.Contains(message, e.Message);
    }

    private static LayerSpec Layer(string type, int kernel, int stride, string padding, bool ceilMode, bool? includePad) =>
        LayerJson.Parse($$"""{ "type": "{{type}}", "kernel": {{kernel}}, "stride": {{stride}}, "padding": {{padding}}, "ceil_mode": {{(ceilMode ? "true" : "false")}}{{(includePad is { } b ? $", \"count_include_pad\": {(b ? "true" : "false")}" : "")}} }""");

    private static float[] Forward(LayerSpec layer, TensorShape shape, float[] x) =>
        TestModels.Forward(TestModels.Build(TestModels.Spec(shape, layer), Simd.Best, out _), x, 1);
}
