using System.Text;

namespace CnnService.Engine.Onnx;

/// <summary>ONNX's <c>AttributeProto.AttributeType</c>, with ONNX's numbers.</summary>
public enum OnnxAttributeType
{
    Undefined = 0,
    Float = 1,
    Int = 2,
    String = 3,
    Tensor = 4,
    Graph = 5,
    Floats = 6,
    Ints = 7,
    Strings = 8,
    Tensors = 9,
    Graphs = 10,
    SparseTensor = 11,
    SparseTensors = 12,
    TypeProto = 13,
    TypeProtos = 14,
}

/// <summary>
/// A node attribute (<c>AttributeProto</c>). Only the member that <see cref="Type"/> names is meaningful;
/// the others keep their defaults. Subgraphs (GRAPH, GRAPHS), sparse tensors and type protos are not
/// read: such an attribute keeps its name and type, with <see cref="IsUnsupported"/> set.
/// </summary>
public sealed class OnnxAttribute
{
    public required string Name { get; init; }

    /// <summary>The declared type, or for a file that leaves it out (IR version 1), the one its fields imply.</summary>
    public required OnnxAttributeType Type { get; init; }

    public float F { get; init; }

    public long I { get; init; }

    /// <summary>A STRING attribute's bytes (ONNX strings are UTF-8 by convention, not by rule).</summary>
    public byte[] S { get; init; } = [];

    public OnnxTensor? T { get; init; }

    public float[] Floats { get; init; } = [];

    public long[] Ints { get; init; } = [];

    public IReadOnlyList<byte[]> Strings { get; init; } = [];

    public IReadOnlyList<OnnxTensor> Tensors { get; init; } = [];

    /// <summary>True for GRAPH, GRAPHS, SPARSE_TENSOR(S) and TYPE_PROTO(S) attributes, whose value was skipped.</summary>
    public bool IsUnsupported => Type is OnnxAttributeType.Graph or OnnxAttributeType.Graphs
        or OnnxAttributeType.SparseTensor or OnnxAttributeType.SparseTensors
        or OnnxAttributeType.TypeProto or OnnxAttributeType.TypeProtos;

    /// <summary><see cref="S"/> decoded as UTF-8 (invalid sequences become U+FFFD).</summary>
    public string SAsString => Encoding.UTF8.GetString(S);

    public static OnnxAttribute Of(string name, long value) => new() { Name = name, Type = OnnxAttributeType.Int, I = value };

    public static OnnxAttribute Of(string name, float value) => new() { Name = name, Type = OnnxAttributeType.Float, F = value };

    public static OnnxAttribute Of(string name, string value) => new() { Name = name, Type = OnnxAttributeType.String, S = Encoding.UTF8.GetBytes(value) };

    public static OnnxAttribute Of(string name, long[] values) => new() { Name = name, Type = OnnxAttributeType.Ints, Ints = values };

    public static OnnxAttribute Of(string name, float[] values) => new() { Name = name, Type = OnnxAttributeType.Floats, Floats = values };

    public static OnnxAttribute Of(string name, OnnxTensor value) => new() { Name = name, Type = OnnxAttributeType.Tensor, T = value };
}
