using System.Text;
using CnnService.Engine.Onnx;

namespace CnnService.Engine.Tests.Onnx;

/// <summary>What OnnxWriter writes, OnnxReader reads back unchanged.</summary>
public class OnnxRoundTripTests
{
    internal static OnnxModel Sample() => new()
    {
        IrVersion = 8,
        ProducerName = "cnnservice",
        ProducerVersion = "1.0",
        Domain = "test",
        ModelVersion = 3,
        DocString = "a sample",
        OpsetImports = [new OnnxOpsetImport("", 13), new OnnxOpsetImport("com.example", 1)],
        MetadataProps = [new("labels", "a,b,c"), new("note", "ü")],
        Graph = new OnnxGraph
        {
            Name = "main",
            Nodes =
            [
                new OnnxNode
                {
                    Name = "conv", OpType = "Conv", Inputs = ["x", "w", ""], Outputs = ["c"],
                    Attributes = Attrs(OnnxAttribute.Of("kernel_shape", [3L, 3]), OnnxAttribute.Of("group", 1L),
                        OnnxAttribute.Of("pads", [-1L, 0, long.MaxValue, long.MinValue]), OnnxAttribute.Of("auto_pad", "NOTSET")),
                },
                new OnnxNode
                {
                    Name = "scale", OpType = "Custom", Domain = "com.example", Inputs = ["c"], Outputs = ["y"],
                    Attributes = Attrs(OnnxAttribute.Of("alpha", 0.5f), OnnxAttribute.Of("gains", [1f, -2.5f]),
                        OnnxAttribute.Of("k", OnnxTensor.FromInt64s("", [2], [7, -8])),
                        new OnnxAttribute { Name = "tags", Type = OnnxAttributeType.Strings, Strings = ["p"u8.ToArray(), [0xFF]] }),
                },
            ],
            Initializers =
            [
                OnnxTensor.FromFloats("w", [2, 1, 3, 3], Enumerable.Range(0, 18).Select(i => i * 0.25f - 2).ToArray()),
                OnnxTensor.FromInt64s("shape", [2], [-1, 18]),
                new OnnxTensor("scalar", OnnxDataType.Double, [], BitConverter.GetBytes(2.5)),
                new OnnxTensor("empty", OnnxDataType.Float, [0, 4], ReadOnlyMemory<byte>.Empty),
                new OnnxTensor("words", [2], ["hi"u8.ToArray(), []]),
            ],
            Inputs = [new OnnxValueInfo { Name = "x", ElemType = OnnxDataType.Float, Dims = [OnnxDim.Symbolic("N"), OnnxDim.Of(1), OnnxDim.Unknown, OnnxDim.Of(5)] }],
            Outputs = [new OnnxValueInfo { Name = "y", ElemType = OnnxDataType.Float }],
            ValueInfo = [new OnnxValueInfo { Name = "c", ElemType = OnnxDataType.Float, Dims = [] }],
        },
    };

    private static Dictionary<string, OnnxAttribute> Attrs(params OnnxAttribute[] attributes) => attributes.ToDictionary(a => a.Name);

    private static OnnxModel RoundTrip(OnnxModel model) => OnnxReader.Read(OnnxWriter.Write(model), null);

    [Fact]
    public void ModelFields_SurviveTheRoundTrip()
    {
        OnnxModel back = RoundTrip(Sample());

        Assert.Equal(8, back.IrVersion);
        Assert.Equal(("cnnservice", "1.0", "test", 3L, "a sample"), (back.ProducerName, back.ProducerVersion, back.Domain, back.ModelVersion, back.DocString));
        Assert.Equal(Sample().OpsetImports, back.OpsetImports);
        Assert.Equal(Sample().MetadataProps, back.MetadataProps);
        Assert.Equal("main", back.Graph.Name);
    }

    [Fact]
    public void Nodes_SurviveTheRoundTrip()
    {
        OnnxGraph back = RoundTrip(Sample()).Graph;

        Assert.Equal(["conv", "scale"], back.Nodes.Select(n => n.Name));
        Assert.Equal(["Conv", "Custom"], back.Nodes.Select(n => n.OpType));
        Assert.Equal(["", "com.example"], back.Nodes.Select(n => n.Domain));
        Assert.Equal(["x", "w", ""], back.Nodes[0].Inputs);
        Assert.Equal(["y"], back.Nodes[1].Outputs);
    }

    [Fact]
    public void Attributes_SurviveTheRoundTrip()
    {
        OnnxGraph back = RoundTrip(Sample()).Graph;
        OnnxNode conv = back.Nodes[0], custom = back.Nodes[1];

        Assert.Equal([3L, 3], conv.GetInts("kernel_shape")!);
        Assert.Equal([-1L, 0, long.MaxValue, long.MinValue], conv.GetInts("pads")!);
        Assert.Equal(1, conv.GetInt("group", 0));
        Assert.Equal("NOTSET", conv.GetString("auto_pad", null));
        Assert.Equal(0.5f, custom.GetFloat("alpha", 0));
        Assert.Equal([1f, -2.5f], custom.GetFloats("gains")!);
        Assert.Equal([7L, -8], custom.GetTensor("k")!.ToInt64s());
        Assert.Equal(["p"u8.ToArray(), [0xFF]], custom.Attributes["tags"].Strings);
    }

    [Fact]
    public void Initializers_SurviveTheRoundTrip()
    {
        OnnxModel sample = Sample();
        OnnxGraph back = RoundTrip(sample).Graph;

        Assert.Equal(sample.Graph.Initializers.Select(t => t.Name), back.Initializers.Select(t => t.Name));
        for (int i = 0; i < back.Initializers.Count; i++)
        {
            OnnxTensor want = sample.Graph.Initializers[i], got = back.Initializers[i];
            Assert.Equal(want.DataType, got.DataType);
            Assert.Equal(want.Dims, got.Dims);
            Assert.Equal(want.Data.ToArray(), got.Data.ToArray());
            Assert.Equal(want.StringData, got.StringData);
        }
    }

    [Fact]
    public void ValueInfos_SurviveTheRoundTrip()
    {
        OnnxGraph back = RoundTrip(Sample()).Graph;

        Assert.Equal([OnnxDim.Symbolic("N"), OnnxDim.Of(1), OnnxDim.Unknown, OnnxDim.Of(5)], back.Inputs.Single().Dims);
        Assert.Null(back.Outputs.Single().Dims);
        Assert.Equal(OnnxDataType.Float, back.Outputs.Single().ElemType);
        Assert.Empty(back.ValueInfo.Single().Dims!);
    }

    [Fact]
    public void TorchFile_ReadWriteRead_IsUnchanged()
    {
        OnnxModel first = OnnxReader.Read(OnnxFixtureTests.Fixture("torch_conv.onnx"));
        OnnxModel second = RoundTrip(first);

        Assert.Equal(first.Graph.Nodes.Select(Describe), second.Graph.Nodes.Select(Describe));
        Assert.Equal(first.Graph.Initializers.Select(t => t.ToFloats()), second.Graph.Initializers.Select(t => t.ToFloats()));
        Assert.Equal(first.OpsetImports, second.OpsetImports);
    }

    [Fact]
    public void WrittenBytes_AreTheSameForTheSameModel() => Assert.Equal(OnnxWriter.Write(Sample()), OnnxWriter.Write(Sample()));

    [Fact]
    public void StreamAndByteArrayWriters_Agree()
    {
        var stream = new MemoryStream();
        OnnxWriter.Write(Sample(), stream);

        Assert.Equal(OnnxWriter.Write(Sample()), stream.ToArray());
    }

    [Fact]
    public void SubgraphAttribute_CannotBeWritten()
    {
        OnnxModel model = new()
        {
            Graph = new OnnxGraph
            {
                Nodes = [new OnnxNode { OpType = "If", Attributes = new Dictionary<string, OnnxAttribute> { ["then_branch"] = new() { Name = "then_branch", Type = OnnxAttributeType.Graph } } }],
            },
        };

        var e = Assert.Throws<ArgumentException>(() => OnnxWriter.Write(model));
        Assert.Contains("then_branch", e.Message);
    }

    private static string Describe(OnnxNode n)
    {
        var text = new StringBuilder($"{n.Name} {n.OpType} [{string.Join(",", n.Inputs)}] -> [{string.Join(",", n.Outputs)}]");
        foreach ((string name, OnnxAttribute a) in n.Attributes.OrderBy(p => p.Key, StringComparer.Ordinal))
            text.Append($" {name}:{a.Type}={a.I}/{a.F}/{string.Join(",", a.Ints)}/{string.Join(",", a.Floats)}/{a.SAsString}");
        return text.ToString();
    }
}
