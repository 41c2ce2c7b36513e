using CnnService.Engine.Format;
using CnnService.Engine.Onnx;
using CnnService.Engine.Onnx.Import;
using static CnnService.Engine.Tests.Onnx.OnnxGraphBuilder;

namespace CnnService.Engine.Tests.Onnx;

/// <summary>What the importer refuses, and that each refusal says what is wrong: the op, the node, the opset.</summary>
public class OnnxImporterRefusalTests
{
    private static ModelFormatException Refused(OnnxModel model) =>
        Assert.Throws<ModelFormatException>(() => OnnxImporter.Import(model, new OnnxImportOptions(), "m.onnx"));

    private static OnnxGraphBuilder Image() => new OnnxGraphBuilder().Input("x", null, 1, 4, 4).Output("y");

    [Fact]
    public void UnknownOp_NamesTheOpTheNodeAndTheOpset()
    {
        var model = Image().Opset(17).Node("Einsum", ["x"], ["y"], "mix").Build();

        var e = Refused(model);

        Assert.Contains("op 'Einsum'", e.Message);
        Assert.Contains("node 'mix'", e.Message);
        Assert.Contains("opset 17", e.Message);
    }

    [Fact]
    public void CustomDomain_IsRefused()
    {
        var model = Image().Node(new OnnxNode { Name = "f", OpType = "FusedConv", Domain = "com.microsoft", Inputs = ["x"], Outputs = ["y"] }).Build();

        Assert.Contains("com.microsoft.FusedConv", Refused(model).Message);
    }

    [Fact]
    public void TwoInputs_AreRefused()
    {
        var model = Image().Input("z", null, 1, 4, 4).Node("Add", ["x", "z"], ["y"]).Build();

        Assert.Contains("2 inputs", Refused(model).Message);
    }

    [Fact]
    public void TwoOutputs_AreRefused()
    {
        var model = Image().Output("y2").Node("Relu", ["x"], ["y"]).Node("Sigmoid", ["x"], ["y2"]).Build();

        Assert.Contains("2 outputs", Refused(model).Message);
    }

    [Fact]
    public void IntegerInput_IsRefused()
    {
        var model = new OnnxGraphBuilder().Input(Value("x", OnnxDataType.Int64, null, 4)).Output("y").Node("Relu", ["x"], ["y"]).Build();

        Assert.Contains("INT64", Refused(model).Message);
    }

    [Fact]
    public void FreeHeight_WithoutAnInputSize_IsRefused()
    {
        var model = new OnnxGraphBuilder().Input("x", null, 1, null, null).Output("y").Node("Relu", ["x"], ["y"]).Build();

        Assert.Contains("C, H and W must be known", Refused(model).Message);
    }

    [Fact]
    public void FixedBatchAbove1_IsRefused()
    {
        var model = new OnnxGraphBuilder().Input("x", 8, 1, 4, 4).Output("y").Node("Relu", ["x"], ["y"]).Build();

        Assert.Contains("fixes the batch at 8", Refused(model).Message);
    }

    [Fact]
    public void NodeReadingALaterTensor_IsRefused()
    {
        // Out of topological order: a cycle cannot be written any other way.
        var model = Image().Node("Relu", ["t"], ["y"], "r1").Node("Relu", ["y"], ["t"], "r2").Build();

        var e = Refused(model);

        Assert.Contains("not defined before this node", e.Message);
        Assert.Contains("node 'r1'", e.Message);
    }

    [Fact]
    public void ConvWeightFromTheInput_IsRefused()
    {
        var model = Image().Node("Conv", ["x", "x"], ["y"], "c").Build();

        Assert.Contains("must be a constant", Refused(model).Message);
    }

    [Fact]
    public void ConvWeightOfTheWrongGroupShape_IsRefused()
    {
        var model = Image().Weight("w", [2, 3, 3, 3], Ramp(54)).Node("Conv", ["x", "w"], ["y"], "c").Build();

        Assert.Contains("does not fit input", Refused(model).Message);
    }

    [Fact]
    public void ReshapeThatFixesTheBatch_IsRefused()
    {
        var model = Image().Ints("s", 1, 16).Node("Reshape", ["x", "s"], ["y"], "r").Build();

        Assert.Contains("fixes the batch size", Refused(model).Message);
    }

    [Fact]
    public void TransposeOutsideAChannelShuffle_IsRefused()
    {
        var model = Image().Node("Transpose", ["x"], ["y"], "t", OnnxAttribute.Of("perm", new long[] { 0, 2, 3, 1 })).Build();

        Assert.Contains("Transpose", Refused(model).Message);
    }

    [Fact]
    public void SoftmaxOverWidth_IsRefused()
    {
        var model = Image().Node("Softmax", ["x"], ["y"], "s", OnnxAttribute.Of("axis", 3L)).Build();

        Assert.Contains("Softmax over axis 3", Refused(model).Message);
    }

    [Fact]
    public void BatchNormInTrainingMode_IsRefused()
    {
        var model = Image()
            .Weight("g", [1], [1f]).Weight("b", [1], [0f]).Weight("m", [1], [0f]).Weight("v", [1], [1f])
            .Node("BatchNormalization", ["x", "g", "b", "m", "v"], ["y"], "bn", OnnxAttribute.Of("training_mode", 1L)).Build();

        Assert.Contains("training mode", Refused(model).Message);
    }

    [Fact]
    public void OutputThatIsTheInput_IsRefused()
    {
        var model = Image().Node("Identity", ["x"], ["y"]).Build();

        Assert.Contains("not computed from the input", Refused(model).Message);
    }

    [Fact]
    public void ArithmeticOnTheBatchSize_IsRefused()
    {
        // x.view(x.size(0) * 2, -1) changes the batch: the engine cannot run it.
        var model = Image()
            .Node("Shape", ["x"], ["shape"]).Ints("zero", 0).Node("Gather", ["shape", "zero"], ["n"], "g")
            .Ints("two", 2).Node("Mul", ["n", "two"], ["n2"], "twice")
            .Build();

        Assert.Contains("arithmetic on the batch size", Refused(model).Message);
    }
}
