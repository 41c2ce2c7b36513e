using System.Text.Json.Nodes;
using CnnService.Engine.Format;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Layers;

/// <summary>conv2d with "groups" and "dilation" as ONNX and PyTorch export them, run by <see cref="GroupedConv2D"/>
/// or <see cref="DepthwiseConv2D"/>, held to the plain grouped, dilated reference convolution.</summary>
public class GroupedConvTests
{
    // N, C, H, W, filters, groups, kh, kw, sh, sw, dh, dw, padding [top, left, bottom, right], the class that runs it
    public static readonly object[][] Cases =
    [
        [1, 4, 9, 11, 6, 2, 3, 3, 1, 1, 1, 1, Padding.Of(1, 1), "grouped"],                   // two groups, AlexNet style
        [3, 8, 13, 10, 8, 4, 3, 3, 2, 2, 1, 1, Padding.Sides(1, 0, 2, 1), "grouped"],         // four groups, stride 2, asymmetric padding, batch 3
        [3, 3, 11, 9, 5, 1, 3, 3, 1, 1, 2, 2, Padding.Of(2, 2), "grouped"],                   // dilation 2, one group (atrous)
        [1, 4, 12, 13, 4, 2, 3, 2, 1, 2, 2, 3, Padding.Sides(2, 1, 0, 3), "grouped"],         // rectangular kernel, dilation [2,3], stride [1,2]
        [2, 8, 5, 7, 12, 4, 1, 1, 1, 1, 1, 1, Padding.Zero, "grouped"],                      // 1x1, four groups (ResNeXt / ShuffleNet)
        [1, 4, 17, 15, 6, 2, 5, 5, 2, 2, 2, 2, Padding.Of(4, 4), "grouped"],                  // 5x5, dilation 2, stride 2
        [1, 64, 9, 9, 64, 32, 3, 3, 1, 1, 1, 1, Padding.Of(1, 1), "grouped"],                 // ResNeXt's 32 groups of 2 channels
        [3, 5, 17, 19, 5, 5, 3, 3, 1, 1, 1, 1, Padding.Of(1, 1), "depthwise"],                // depthwise 3x3 stride 1, batch 3
        [1, 4, 18, 18, 4, 4, 3, 3, 2, 2, 1, 1, Padding.Of(1, 1), "depthwise"],                // depthwise 3x3 stride 2, even size
        [1, 3, 15, 21, 6, 3, 5, 5, 2, 2, 1, 1, Padding.Of(2, 2), "depthwise"],                // depthwise 5x5 stride 2, multiplier 2
        [3, 4, 12, 12, 4, 4, 3, 3, 2, 2, 1, 1, Padding.Sides(0, 0, 1, 1), "depthwise"],       // depthwise, TensorFlow-style padding (bottom/right only)
        [1, 3, 6, 37, 3, 3, 5, 5, 1, 1, 1, 1, Padding.Of(2, 2), "depthwise"],                 // depthwise 5x5 stride 1, wide rows
        [2, 3, 7, 9, 6, 3, 1, 1, 1, 1, 1, 1, Padding.Zero, "depthwise"],                      // depthwise 1x1 (general path), multiplier 2
        [1, 2, 9, 40, 2, 2, 7, 7, 1, 1, 1, 1, Padding.Of(3, 3), "depthwise"],                 // depthwise 7x7 (general path)
        [1, 2, 20, 31, 2, 2, 3, 3, 3, 3, 1, 1, Padding.Of(1, 1), "depthwise"],                // depthwise stride 3
        [1, 8, 7, 7, 8, 8, 3, 3, 1, 1, 1, 1, Padding.Of(1, 1), "depthwise"],                  // depthwise on a 7x7 map: narrower than a vector
        [1, 4, 11, 23, 8, 4, 3, 1, 2, 1, 1, 1, Padding.Sides(1, 0, 1, 0), "depthwise"],       // depthwise 3x1, stride [2,1], multiplier 2
        [2, 6, 10, 34, 6, 6, 3, 3, 2, 2, 1, 1, Padding.Of(1, 1), "depthwise"],                // depthwise stride 2 on a row wider than two vectors
        [1, 4, 11, 11, 4, 4, 3, 3, 1, 1, 2, 2, Padding.Of(2, 2), "grouped"],                  // depthwise with dilation 2: the general class
        [2, 32, 14, 14, 32, 2, 3, 3, 1, 1, 1, 1, Padding.Of(1, 1), "grouped"],                // RegNet's groups of 16 filters: one direct tile a row (AVX-512)
        [1, 64, 29, 29, 64, 4, 3, 3, 2, 2, 1, 1, Padding.Of(1, 1), "grouped"],                // stride 2 onto 15 wide: a second tile moved back
        [1, 48, 14, 14, 48, 3, 3, 3, 2, 2, 1, 1, Padding.Of(1, 1), "grouped"],                // stride 2 onto 7x7: rows in pairs, the last half a tile
        [1, 64, 9, 20, 64, 2, 3, 3, 1, 1, 1, 1, Padding.Of(1, 1), "grouped"],                 // groups of 32 filters: two-vector tiles
        [1, 32, 16, 16, 32, 2, 3, 3, 1, 1, 1, 1, Padding.Zero, "grouped"],                    // unpadded: the input read in place
    ];

    public static IEnumerable<object[]> CasesAtEveryLevel() =>
        from level in TestModels.SimdLevels() from c in Cases select c.Append(level[0]).ToArray();

    [Theory]
    [MemberData(nameof(CasesAtEveryLevel))]
    public void Forward_matches_the_grouped_dilated_reference(int n, int c, int h, int w, int m, int groups, int kh, int kw, int sh, int sw, int dh, int dw,
        Padding padding, string runner, SimdLevel simd)
    {
        LayerSpec conv = Conv(m, groups, new Pair(kh, kw), new Pair(sh, sw), new Pair(dh, dw), padding);
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(c, h, w), conv), simd, out var t);
        float[] x = TestModels.Random(n * c * h * w, seed: 2);

        TensorShape o = model.OutputShape;
        float[] expected = Reference.GroupedConv2D(x, n, c, h, w, t["conv.weight"], t["conv.bias"], m, groups, kh, kw, sh, sw, dh, dw, padding.Top, padding.Left, o.H, o.W);

        Assert.Equal(runner, Runner(model.Layers[0]));
        TestModels.AssertClose(expected, TestModels.Forward(model, x, n));
    }

    [Theory]
    [InlineData(1, 1, "conv2d")]
    [InlineData(1, 2, "grouped")]
    [InlineData(2, 1, "grouped")]
    [InlineData(8, 1, "depthwise")]
    [InlineData(8, 2, "grouped")]
    public void The_factory_keeps_the_tuned_class_for_plain_convolutions_and_picks_depthwise_for_one_group_per_channel(int groups, int dilation, string runner)
    {
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(8, 10, 10), Conv(16, groups, Pair.Square(3), Pair.Square(1), Pair.Square(dilation), Padding.Of(2, 2))), Simd.Best, out _);

        Assert.Equal(runner, Runner(model.Layers[0]));
    }

    [Fact]
    public void Groups_and_dilation_written_in_model_json_reach_the_layers()
    {
        IReadOnlyList<LayerSpec> layers = ModelSpecJson.ParseLayers("""
            [ { "type": "conv2d", "name": "dw", "filters": 8, "kernel": 3, "padding": 1, "groups": 8 },
              { "type": "conv2d", "name": "pw", "filters": 4, "kernel": 3, "padding": [2, 2], "groups": 2, "dilation": [2, 2] } ]
            """, "arch");
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(8, 6, 6), layers.ToArray()), Simd.Best, out _);

        Assert.Equal(("depthwise", "grouped"), (Runner(model.Layers[0]), Runner(model.Layers[1])));
        Assert.Equal((8, 2, new Pair(2, 2)), (((IConvolution)model.Layers[0]).Groups, ((IConvolution)model.Layers[1]).Groups, ((IConvolution)model.Layers[1]).Dilation));
    }

    [Fact]
    public void The_output_size_follows_the_dilated_span()
    {
        // (H + top + bottom - dil*(k-1) - 1) / stride + 1 = (20 + 1 + 2 - 3*4 - 1) / 2 + 1 = 6; (17 + 0 + 0 - 2*4 - 1) / 1 + 1 = 9
        var conv = Conv(4, 2, Pair.Square(5), new Pair(2, 1), new Pair(3, 2), Padding.Sides(1, 0, 2, 0));
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(2, 20, 17), conv), Simd.Best, out _);

        Assert.Equal(new TensorShape(4, 6, 9), model.OutputShape);
    }

    public static IEnumerable<object[]> ReluCases() =>
        from level in TestModels.SimdLevels() from groups in new[] { 2, 6 } select new object[] { level[0], groups };

    [Theory]
    [MemberData(nameof(ReluCases))]
    public void A_following_relu_is_fused_and_still_clamps(SimdLevel simd, int groups)
    {
        var conv = Conv(12, groups, Pair.Square(3), Pair.Square(1), Pair.Square(1), Padding.Of(1, 1));
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(6, 9, 21), conv, new LayerSpec { Type = "relu" }), simd, out var t);
        float[] x = TestModels.Random(3 * 6 * 9 * 21, seed: 3);

        float[] expected = Reference.Map(Reference.GroupedConv2D(x, 3, 6, 9, 21, t["conv.weight"], t["conv.bias"], 12, groups, 3, 3, 1, 1, 1, 1, 1, 1, 9, 21), v => Math.Max(v, 0));

        Assert.True(((IConvolution)model.Layers[0]).FusedRelu);
        Assert.True(model.IsFusedAway(1));
        TestModels.AssertClose(expected, TestModels.Forward(model, x, 3));
    }

    public static readonly object[][] DirectChoices =
    [
        [32, 2, 1, 1, true],    // groups of 16 filters
        [64, 2, 1, 1, true],    // groups of 32
        [48, 3, 2, 1, true],    // stride 2 onto 7x7, rows in pairs
        [24, 3, 1, 1, false],   // groups of 8 filters: im2col
        [32, 2, 1, 2, false],   // dilation 2: im2col
    ];

    public static IEnumerable<object[]> DirectChoicesAtEachLevel() =>
        TestModels.VectorLevels().SelectMany(level => DirectChoices.Select(c => c.Append(level[0]).ToArray()));

    [VectorTheory]
    [MemberData(nameof(DirectChoicesAtEachLevel))]
    public void Groups_of_16_or_32_filters_run_direct_tiles_at_each_vector_level(int channels, int groups, int stride, int dilation, bool direct, SimdLevel level)
    {
        var conv = Conv(channels, groups, Pair.Square(3), Pair.Square(stride), Pair.Square(dilation), Padding.Of(dilation, dilation));
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(channels, 14, 14), conv), level, out _);

        Assert.Equal(direct, Assert.IsType<GroupedConv2D>(model.Layers[0]).Direct);
    }

    [Fact]
    public void Direct_grouped_tiles_apply_a_fused_relu_in_their_store()
    {
        var conv = Conv(32, 2, Pair.Square(3), Pair.Square(1), Pair.Square(1), Padding.Of(1, 1));
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(32, 7, 14), conv, new LayerSpec { Type = "relu" }), Simd.Best, out var t);
        float[] x = TestModels.Random(2 * 32 * 7 * 14, seed: 5);

        float[] expected = Reference.Map(Reference.GroupedConv2D(x, 2, 32, 7, 14, t["conv.weight"], t["conv.bias"], 32, 2, 3, 3, 1, 1, 1, 1, 1, 1, 7, 14), v => Math.Max(v, 0));

        Assert.True(model.IsFusedAway(1));
        TestModels.AssertClose(expected, TestModels.Forward(model, x, 2));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(6)]
    public void A_trace_sees_the_output_before_the_fused_relu(int groups)
    {
        var conv = Conv(6, groups, Pair.Square(3), Pair.Square(1), Pair.Square(1), Padding.Of(1, 1));
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(6, 8, 8), conv, new LayerSpec { Type = "relu" }), Simd.Best, out var t);
        float[] x = TestModels.Random(6 * 8 * 8, seed: 4);

        float[][] trace = model.Trace(x);

        TestModels.AssertClose(Reference.GroupedConv2D(x, 1, 6, 8, 8, t["conv.weight"], t["conv.bias"], 6, groups, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8), trace[0]);
        Assert.Contains(trace[0], v => v < 0);
    }

    [Theory]
    [InlineData(4, 1, 3)]    // grouped: items are (image, group, block of positions)
    [InlineData(32, 1, 3)]   // depthwise: items are (image, channel) planes
    [InlineData(1, 2, 1)]    // dilated, one group, one image: split by blocks of positions
    public void Split_across_threads_matches_the_reference(int groups, int dilation, int n)
    {
        var conv = Conv(32, groups, Pair.Square(3), Pair.Square(1), Pair.Square(dilation), Padding.Of(dilation, dilation));
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(32, 42, 42), conv), Simd.Best, out var t, threads: 2);
        float[] x = TestModels.Random(n * 32 * 42 * 42, seed: 5);

        float[] expected = Reference.GroupedConv2D(x, n, 32, 42, 42, t["conv.weight"], t["conv.bias"], 32, groups, 3, 3, 1, 1, dilation, dilation, dilation, dilation, 42, 42);
        TestModels.AssertClose(expected, TestModels.Forward(model, x, n));
    }

    public static readonly object[][] SplitGroups =
    [
        [14, 1, 14],   // 3 groups x 14 rows: the two threads' halves meet at row 7 of group 1
        [14, 2, 7],    // rows of 7 in pairs, 3 groups x 4 items: they meet at rows 4-5 of group 1
        [29, 2, 15],   // stride 2, 3 groups x 15 rows: they meet at row 7 of group 1 (input rows 13-15 and on)
    ];

    public static IEnumerable<object[]> SplitGroupsAtEachLevel() =>
        TestModels.VectorLevels().SelectMany(level => SplitGroups.Select(c => c.Append(level[0]).ToArray()));

    [VectorTheory]
    [MemberData(nameof(SplitGroupsAtEachLevel))]
    public void Direct_tiles_split_inside_a_group_pad_each_threads_rows(int size, int stride, int outSize, SimdLevel level)
    {
        // Each thread pads only the rows its own items read: a group split between them has each pad its own band.
        var conv = Conv(48, 3, Pair.Square(3), Pair.Square(stride), Pair.Square(1), Padding.Of(1, 1));
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(48, size, size), conv), level, out var t, threads: 2);
        float[] x = TestModels.Random(48 * size * size, seed: 7);

        float[] expected = Reference.GroupedConv2D(x, 1, 48, size, size, t["conv.weight"], t["conv.bias"], 48, 3, 3, 3, stride, stride, 1, 1, 1, 1, outSize, outSize);
        Assert.True(Assert.IsType<GroupedConv2D>(model.Layers[0]).Direct);
        TestModels.AssertClose(expected, TestModels.Forward(model, x, 1));
    }

    [Theory]
    [InlineData(32, 2)]   // groups of 16 filters: direct tiles
    [InlineData(4, 2)]    // groups of 2: im2col
    public void Reflect_padding_on_two_threads_matches_mirrored_input(int channels, int groups)
    {
        var conv = Conv(channels, groups, Pair.Square(3), Pair.Square(1), Pair.Square(1), Padding.Of(1, 1), paddingMode: "reflect");
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(channels, 14, 15), conv), Simd.Best, out var t, threads: 2);
        float[] x = TestModels.Random(2 * channels * 14 * 15, seed: 9);

        // Reflect-pad by hand, image by image, then the reference runs unpadded.
        float[] padded = [.. ReflectPad(x.AsSpan(0, channels * 14 * 15).ToArray(), channels, 14, 15), .. ReflectPad(x.AsSpan(channels * 14 * 15).ToArray(), channels, 14, 15)];
        float[] expected = Reference.GroupedConv2D(padded, 2, channels, 16, 17, t["conv.weight"], t["conv.bias"], channels, groups, 3, 3, 1, 1, 1, 1, 0, 0, 14, 15);
        TestModels.AssertClose(expected, TestModels.Forward(model, x, 2));
    }

    [Fact]
    public void Grouped_reflect_padding_matches_mirrored_input()
    {
        var conv = Conv(4, 2, Pair.Square(3), Pair.Square(1), Pair.Square(1), Padding.Of(1, 1), paddingMode: "reflect");
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(4, 6, 7), conv), Simd.Best, out var t);
        float[] x = TestModels.Random(4 * 6 * 7, seed: 6);

        // Reflect-pad by hand, then the reference runs unpadded.
        float[] padded = ReflectPad(x, 4, 6, 7);
        float[] expected = Reference.GroupedConv2D(padded, 1, 4, 8, 9, t["conv.weight"], t["conv.bias"], 4, 2, 3, 3, 1, 1, 1, 1, 0, 0, 6, 7);
        Assert.Equal("grouped", Runner(model.Layers[0]));
        TestModels.AssertClose(expected, TestModels.Forward(model, x, 1));
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(6, 2)]
    public void CopyWeights_gives_the_pytorch_layout_and_the_layer_reports_its_grouping(int groups, int dilation)
    {
        var conv = Conv(12, groups, new Pair(3, 2), Pair.Square(1), Pair.Square(dilation), Padding.Of(1, 1));
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(6, 9, 9), conv), Simd.Best, out var t);
        var layer = (IConvolution)model.Layers[0];

        Assert.Equal(t["conv.weight"], layer.CopyWeights());
        Assert.Equal((3, 2, groups, 6 / groups, new Pair(dilation, dilation)), (layer.KernelHeight, layer.KernelWidth, layer.Groups, layer.ChannelsPerFilter, layer.Dilation));
        Assert.Equal(12L * (6 / groups) * 3 * 2 + 12, model.Layers[0].Parameters);
        Assert.Equal(2L * 12 * (6 / groups) * 3 * 2 * model.OutputShape.H * model.OutputShape.W, model.Layers[0].FlopsPerImage);
    }

    [Theory]
    [InlineData(3, 1, "\"groups\" 3 does not divide the 8 input channels")]
    [InlineData(4, 1, "\"groups\" 4 does not divide the 6 filters")]
    [InlineData(0, 1, "\"groups\" must be an integer from 1")]
    [InlineData(-2, 1, "\"groups\" must be an integer from 1")]
    [InlineData(2, 0, "\"dilation\" must be an integer from 1 to 65536, got 0")]
    [InlineData(2, 5, "kernel 3 with dilation 5 spans 11x11, larger than the padded input 10x10")]
    public void Hostile_settings_are_refused_naming_the_layer(int groups, int dilation, string message)
    {
        int filters = message.Contains("filters", StringComparison.Ordinal) ? 6 : 8;
        var conv = Conv(filters, groups, Pair.Square(3), Pair.Square(1), Pair.Square(dilation), Padding.Of(1, 1));

        var e = Assert.Throws<ModelFormatException>(() => TestModels.Build(TestModels.Spec(new TensorShape(8, 8, 8), conv), Simd.Best, out _));
        Assert.Contains("layer 0 (conv, conv2d)", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData("\"two\"", "\"groups\" must be an integer")]
    [InlineData("[1, 2, 3]", "\"dilation\" must be an integer or an [h, w] pair")]
    public void Settings_of_the_wrong_type_are_refused(string json, string message)
    {
        string key = message.Contains("groups", StringComparison.Ordinal) ? "groups" : "dilation";
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = 4, Kernel = Pair.Square(3), Extra = JsonNode.Parse($$"""{ "{{key}}": {{json}} }""")!.AsObject() };

        var e = Assert.Throws<ModelFormatException>(() => TestModels.Build(TestModels.Spec(new TensorShape(4, 8, 8), conv), Simd.Best, out _));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void A_weight_tensor_of_the_ungrouped_shape_is_refused()
    {
        // Weights written for groups 1 ([8, 8, 3, 3]) do not fit a layer of 4 groups ([8, 2, 3, 3]).
        var plain = new LayerSpec { Type = "conv2d", Name = "conv", Filters = 8, Kernel = Pair.Square(3) };
        WeightSet weights = WeightInitializer.Initialize(TestModels.Spec(new TensorShape(8, 6, 6), plain), seed: 1);
        var grouped = Conv(8, 4, Pair.Square(3), Pair.Square(1), Pair.Square(1), Padding.Zero);

        var e = Assert.Throws<ModelFormatException>(() => Model.Create(TestModels.Spec(new TensorShape(8, 6, 6), grouped), weights));
        Assert.Contains("expected [8,2,3,3]", e.Message);
    }

    /// <summary>A conv2d spec as model.json gives it (settings parsed from JSON text, as a file's are): dilation an integer when square, else [h, w].</summary>
    internal static LayerSpec Conv(int filters, int groups, Pair kernel, Pair stride, Pair dilation, Padding padding, string paddingMode = "zeros") => new()
    {
        Type = "conv2d", Name = "conv", Filters = filters, Kernel = kernel, Stride = stride, Padding = padding, PaddingMode = paddingMode,
        Extra = JsonNode.Parse(dilation.H == dilation.W
            ? $$"""{ "groups": {{groups}}, "dilation": {{dilation.H}} }"""
            : $$"""{ "groups": {{groups}}, "dilation": [{{dilation.H}}, {{dilation.W}}] }""")!.AsObject(),
    };

    private static string Runner(Layer layer) => layer switch
    {
        Conv2D => "conv2d",
        DepthwiseConv2D => "depthwise",
        GroupedConv2D => "grouped",
        _ => layer.GetType().Name,
    };

    private static float[] ReflectPad(float[] x, int c, int h, int w)
    {
        var y = new float[c * (h + 2) * (w + 2)];
        for (int ch = 0; ch < c; ch++)
        for (int i = 0; i < h + 2; i++)
        for (int j = 0; j < w + 2; j++)
        {
            int si = Mirror(i - 1, h), sj = Mirror(j - 1, w);
            y[(ch * (h + 2) + i) * (w + 2) + j] = x[(ch * h + si) * w + sj];
        }

        return y;
    }

    private static int Mirror(int i, int n) => i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
}
