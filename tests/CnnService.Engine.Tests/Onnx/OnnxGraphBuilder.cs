using CnnService.Engine.Onnx;

namespace CnnService.Engine.Tests.Onnx;

/// <summary>Builds small ONNX graphs in memory, as an exporter would write them, for the importer's tests.</summary>
internal sealed class OnnxGraphBuilder
{
    private readonly List<OnnxNode> _nodes = [];
    private readonly List<OnnxTensor> _initializers = [];
    private readonly List<OnnxValueInfo> _inputs = [];
    private readonly List<OnnxValueInfo> _outputs = [];
    private int _opset = 13;

    public static OnnxValueInfo Value(string name, OnnxDataType type, params long?[] dims) => new()
    {
        Name = name,
        ElemType = type,
        Dims = dims.Select((d, i) => d is long v ? OnnxDim.Of(v) : OnnxDim.Symbolic(i == 0 ? "batch" : $"d{i}")).ToArray(),
    };

    public OnnxGraphBuilder Opset(int opset)
    {
        _opset = opset;
        return this;
    }

    public OnnxGraphBuilder Input(string name, params long?[] dims) => Input(Value(name, OnnxDataType.Float, dims));

    public OnnxGraphBuilder Input(OnnxValueInfo value)
    {
        _inputs.Add(value);
        return this;
    }

    public OnnxGraphBuilder Output(string name)
    {
        _outputs.Add(new OnnxValueInfo { Name = name, ElemType = OnnxDataType.Float });
        return this;
    }

    public OnnxGraphBuilder Weight(string name, long[] dims, float[] values)
    {
        _initializers.Add(OnnxTensor.FromFloats(name, dims, values));
        return this;
    }

    public OnnxGraphBuilder Ints(string name, params long[] values)
    {
        _initializers.Add(OnnxTensor.FromInt64s(name, [values.Length], values));
        return this;
    }

    public OnnxGraphBuilder Node(string op, string[] inputs, string[] outputs, string name = "", params OnnxAttribute[] attributes)
    {
        _nodes.Add(new OnnxNode
        {
            Name = name, OpType = op, Inputs = inputs, Outputs = outputs,
            Attributes = attributes.ToDictionary(a => a.Name),
        });
        return this;
    }

    public OnnxGraphBuilder Node(OnnxNode node)
    {
        _nodes.Add(node);
        return this;
    }

    public OnnxModel Build() => new()
    {
        IrVersion = 8,
        ProducerName = "test",
        OpsetImports = [new OnnxOpsetImport("", _opset)],
        Graph = new OnnxGraph { Name = "g", Nodes = _nodes, Initializers = _initializers, Inputs = _inputs, Outputs = _outputs },
    };

    /// <summary>Values 0.01, 0.02, ... : deterministic, distinct, small.</summary>
    public static float[] Ramp(int count, float step = 0.01f) => Enumerable.Range(1, count).Select(i => i * step * (i % 3 == 0 ? -1 : 1)).ToArray();
}
