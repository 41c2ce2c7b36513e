using System.Text.Json;
using CnnService.Engine.Onnx;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Onnx;

/// <summary>Files written by the reference onnx library and by torch.onnx.export (scripts/make-onnx-proto-fixtures.py).</summary>
public class OnnxFixtureTests
{
    internal static string Fixture(string name) => Path.Combine(Fixtures.Root, "onnx", "proto", name);

    [Fact]
    public void TorchExport_HasOpset13AndProducer()
    {
        OnnxModel model = OnnxReader.Read(Fixture("torch_conv.onnx"));

        Assert.Equal(13, model.DefaultOpsetVersion);
        Assert.Equal("pytorch", model.ProducerName);
        Assert.True(model.IrVersion >= 7);
    }

    [Fact]
    public void TorchExport_NodesAreConvReluMaxPoolFlattenGemm()
    {
        OnnxGraph graph = OnnxReader.Read(Fixture("torch_conv.onnx")).Graph;

        Assert.Equal(["Conv", "Relu", "MaxPool", "Flatten", "Gemm"], graph.Nodes.Select(n => n.OpType));
        Assert.Equal(["image", "0.weight", "0.bias"], graph.Nodes[0].Inputs);
        Assert.Equal("logits", graph.Nodes[^1].Outputs.Single());
    }

    [Fact]
    public void TorchExport_ConvAttributes()
    {
        OnnxNode conv = OnnxReader.Read(Fixture("torch_conv.onnx")).Graph.Nodes[0];

        Assert.Equal([3L, 3], conv.GetInts("kernel_shape")!);
        Assert.Equal([1L, 1, 1, 1], conv.GetInts("pads")!);
        Assert.Equal([1L, 1], conv.GetInts("strides")!);
        Assert.Equal(1, conv.GetInt("group", -1));
        Assert.Equal(OnnxAttributeType.Ints, conv.Attributes["dilations"].Type);
    }

    [Fact]
    public void TorchExport_GemmAttributes()
    {
        OnnxNode gemm = OnnxReader.Read(Fixture("torch_conv.onnx")).Graph.Nodes[^1];

        Assert.Equal(1f, gemm.GetFloat("alpha", 0));
        Assert.Equal(1, gemm.GetInt("transB", 0));
    }

    [Fact]
    public void TorchExport_InitializersEqualTheStateDict()
    {
        OnnxGraph graph = OnnxReader.Read(Fixture("torch_conv.onnx")).Graph;
        using JsonDocument expected = JsonDocument.Parse(File.ReadAllText(Fixture("torch_conv.expected.json")));

        foreach (JsonProperty p in expected.RootElement.EnumerateObject())
        {
            OnnxTensor t = graph.FindInitializer(p.Name) ?? throw new Xunit.Sdk.XunitException($"no initializer {p.Name}");
            Assert.Equal(OnnxDataType.Float, t.DataType);
            Assert.Equal(p.Value.GetProperty("dims").EnumerateArray().Select(d => d.GetInt64()), t.Dims);
            Assert.Equal(p.Value.GetProperty("values").EnumerateArray().Select(v => v.GetSingle()), t.ToFloats());
        }

        Assert.Equal(4, graph.Initializers.Count);
    }

    [Fact]
    public void TorchExport_InputHasSymbolicBatch()
    {
        OnnxValueInfo input = OnnxReader.Read(Fixture("torch_conv.onnx")).Graph.Inputs.Single();

        Assert.Equal("image", input.Name);
        Assert.Equal(OnnxDataType.Float, input.ElemType);
        Assert.Equal([OnnxDim.Symbolic("batch"), OnnxDim.Of(1), OnnxDim.Of(8), OnnxDim.Of(8)], input.Dims);
    }

    [Fact]
    public void TypedFloatData_WeightsAndBias()
    {
        OnnxGraph graph = OnnxReader.Read(Fixture("typed_float_data.onnx")).Graph;

        OnnxTensor w = graph.FindInitializer("conv.weight")!;
        Assert.Equal([2L, 1, 3, 3], w.Dims);
        Assert.Equal(Enumerable.Range(0, 18).Select(i => i * 0.5f - 4), w.ToFloats());
        Assert.Equal([0.25f, -0.75f], graph.FindInitializer("conv.bias")!.ToFloats());
    }

    [Fact]
    public void TypedInt64Data_ReshapeShape()
    {
        OnnxTensor shape = OnnxReader.Read(Fixture("typed_float_data.onnx")).Graph.FindInitializer("shape")!;

        Assert.Equal(OnnxDataType.Int64, shape.DataType);
        Assert.Equal([-1L, 18], shape.ToInt64s());
    }

    [Fact]
    public void TypedFloatData_MetadataOpsetAndSymbolicOutput()
    {
        OnnxModel model = OnnxReader.Read(Fixture("typed_float_data.onnx"));

        Assert.Equal(7, model.IrVersion);
        Assert.Equal([new OnnxOpsetImport("", 13)], model.OpsetImports);
        Assert.Equal([new KeyValuePair<string, string>("purpose", "typed float_data")], model.MetadataProps);
        Assert.Equal([OnnxDim.Symbolic("N"), OnnxDim.Of(18)], model.Graph.Outputs.Single().Dims);
        Assert.Equal(["Conv", "Reshape"], model.Graph.Nodes.Select(n => n.OpType));
    }

    [Fact]
    public void RawData_GemmWeightsEqualNumpy()
    {
        OnnxGraph graph = OnnxReader.Read(Fixture("raw_data.onnx")).Graph;
        using JsonDocument expected = JsonDocument.Parse(File.ReadAllText(Fixture("raw_data.expected.json")));

        OnnxTensor w = graph.FindInitializer("fc.weight")!;
        Assert.Equal([3L, 4], w.Dims);
        Assert.Equal(expected.RootElement.GetProperty("fc.weight").EnumerateArray().Select(v => v.GetSingle()), w.ToFloats());
        Assert.Equal([1.5f, -2f, 0.125f], graph.FindInitializer("fc.bias")!.ToFloats());
    }

    [Fact]
    public void RawData_ConstantTensorAttribute()
    {
        OnnxNode constant = OnnxReader.Read(Fixture("raw_data.onnx")).Graph.Nodes[0];

        Assert.Equal("Constant", constant.OpType);
        OnnxTensor value = constant.GetTensor("value")!;
        Assert.Equal([2L], value.Dims);
        Assert.Equal([3f, 4f], value.ToFloats());
    }

    [Fact]
    public void Int32Data_Float16Int8UInt8BoolAndDoubleData()
    {
        OnnxGraph graph = OnnxReader.Read(Fixture("raw_data.onnx")).Graph;

        Assert.Equal([1f, -0.5f, 65504f], graph.FindInitializer("half")!.ToFloats());
        Assert.Equal([-128L, -1, 0, 127], graph.FindInitializer("i8")!.ToInt64s());
        Assert.Equal([0f, 1, 200, 255], graph.FindInitializer("u8")!.ToFloats());
        Assert.Equal([1L, 0, 1], graph.FindInitializer("flags")!.ToInt64s());
        Assert.Equal([0.1f, -3f], graph.FindInitializer("dbl")!.ToFloats());
    }

    [Fact]
    public void ExternalData_ReadFromTheFileBesideTheModel()
    {
        OnnxGraph graph = OnnxReader.Read(Fixture("external_data.onnx")).Graph;

        OnnxTensor w = graph.FindInitializer("w")!;
        Assert.Equal([2L, 3, 4], w.Dims);
        Assert.Equal(Enumerable.Range(0, 24).Select(i => i / 8f), w.ToFloats());
        Assert.Equal([5L, -6, 7], graph.FindInitializer("ids")!.ToInt64s());
    }

    [Fact]
    public void ExternalData_RefusedWhenReadFromBytesWithoutFolder()
    {
        var e = Assert.Throws<CnnService.Engine.Format.ModelFormatException>(() => OnnxReader.Read(File.ReadAllBytes(Fixture("external_data.onnx")), null, "external_data.onnx"));

        Assert.Contains("external_data.onnx", e.Message);
        Assert.Contains("without a folder", e.Message);
    }
}
