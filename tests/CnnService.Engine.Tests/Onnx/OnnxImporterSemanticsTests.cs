using CnnService.Engine.Onnx;
using CnnService.Engine.Onnx.Import;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;
using static CnnService.Engine.Tests.Onnx.OnnxGraphBuilder;

namespace CnnService.Engine.Tests.Onnx;

/// <summary>
/// Forms real exporters write that the torchvision fixtures do not (Keras/TensorFlow's auto_pad, dilations,
/// asymmetric pads; constants on the left; a MatMul and its bias), imported and compared with ONNX Runtime
/// running the very same bytes.
/// </summary>
public class OnnxImporterSemanticsTests
{
    /// <summary>h = w = 0: a flat [N, c] input.</summary>
    private static void AssertLikeOnnxRuntime(OnnxModel model, int c, int h, int w)
    {
        using var dir = new TempDir();
        string path = dir.File("m.onnx");
        File.WriteAllBytes(path, OnnxWriter.Write(model));
        const int batch = 2;
        float[] input = TestModels.Random(batch * c * Math.Max(h, 1) * Math.Max(w, 1), seed: 5);
        int[] shape = h == 0 ? [batch, c] : [batch, c, h, w];
        float[] expected = OnnxRuntimeReference.Run(path, input, shape).Values;

        var (spec, weights) = OnnxImporter.Import(path);
        Model imported = Model.Create(spec, weights);
        var actual = new float[batch * imported.OutputShape.Size];
        imported.Forward(input, actual, batch);

        Assert.Equal(expected.Length, actual.Length);
        float scale = expected.Max(Math.Abs);
        for (int i = 0; i < actual.Length; i++) Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5f * scale, $"at {i}: {actual[i]} vs {expected[i]}");
    }

    [Theory]
    [InlineData("SAME_UPPER", 2)]
    [InlineData("SAME_LOWER", 2)]
    [InlineData("SAME_UPPER", 1)]
    [InlineData("VALID", 2)]
    public void Conv_auto_pad_pads_as_onnx_says(string autoPad, long stride)
    {
        var model = new OnnxGraphBuilder().Input("x", null, 3, 9, 10).Output("y")
            .Weight("w", [4, 3, 4, 3], Ramp(144)).Weight("b", [4], Ramp(4))
            .Node("Conv", ["x", "w", "b"], ["y"], "conv", OnnxAttribute.Of("auto_pad", autoPad), OnnxAttribute.Of("strides", new[] { stride, stride }))
            .Build();

        AssertLikeOnnxRuntime(model, 3, 9, 10);
    }

    [Fact]
    public void Conv_with_dilations_and_asymmetric_pads()
    {
        var model = new OnnxGraphBuilder().Input("x", null, 2, 11, 9).Output("y")
            .Weight("w", [3, 2, 3, 3], Ramp(54))
            .Node("Conv", ["x", "w"], ["y"], "conv", OnnxAttribute.Of("dilations", new long[] { 2, 3 }), OnnxAttribute.Of("pads", new long[] { 1, 0, 2, 3 }))
            .Build();

        AssertLikeOnnxRuntime(model, 2, 11, 9);
    }

    [Fact]
    public void MaxPool_with_same_upper_and_ceil_mode()
    {
        var model = new OnnxGraphBuilder().Input("x", null, 2, 7, 8).Output("y")
            .Node("MaxPool", ["x"], ["p"], "pool", OnnxAttribute.Of("kernel_shape", new long[] { 3, 3 }), OnnxAttribute.Of("strides", new long[] { 2, 2 }), OnnxAttribute.Of("auto_pad", "SAME_UPPER"))
            .Node("AveragePool", ["p"], ["y"], "avg", OnnxAttribute.Of("kernel_shape", new long[] { 2, 2 }), OnnxAttribute.Of("strides", new long[] { 2, 2 }), OnnxAttribute.Of("ceil_mode", 1L))
            .Build();

        AssertLikeOnnxRuntime(model, 2, 7, 8);
    }

    [Fact]
    public void A_constant_on_the_left_of_sub_and_div()
    {
        var model = new OnnxGraphBuilder().Input("x", null, 3, 2, 2).Output("y")
            .Weight("k", [1, 3, 1, 1], [2f, 3f, 4f]).Weight("one", [], [1.5f])
            .Node("Sub", ["k", "x"], ["s"], "sub")
            .Node("Relu", ["s"], ["r"])
            .Node("Add", ["r", "one"], ["r1"], "shift")
            .Node("Div", ["one", "r1"], ["y"], "div")
            .Build();

        AssertLikeOnnxRuntime(model, 3, 2, 2);
    }

    [Fact]
    public void MatMul_then_Add_is_one_dense_layer_with_its_bias()
    {
        var model = new OnnxGraphBuilder().Input("x", null, 6).Output("y")
            .Weight("w", [6, 4], Ramp(24)).Weight("b", [4], Ramp(4, 0.1f))
            .Node("MatMul", ["x", "w"], ["m"], "mm").Node("Add", ["m", "b"], ["y"], "bias")
            .Build();
        var (spec, _) = OnnxImporter.Import(model, new OnnxImportOptions());

        Assert.Equal(["dense"], spec.Layers.Select(l => l.Type));
        AssertLikeOnnxRuntime(model, 6, 0, 0);
    }
}
