namespace CnnService.Engine.Onnx;

/// <summary>The model's main graph (<c>GraphProto</c>): nodes in the file's order, which ONNX requires to be topological.</summary>
public sealed class OnnxGraph
{
    public string Name { get; init; } = "";

    public IReadOnlyList<OnnxNode> Nodes { get; init; } = [];

    /// <summary>The constant tensors (weights); names are unique (the reader refuses a repeated one).</summary>
    public IReadOnlyList<OnnxTensor> Initializers { get; init; } = [];

    /// <summary>The graph's inputs; files from IR version 3 and earlier list the initializers here too.</summary>
    public IReadOnlyList<OnnxValueInfo> Inputs { get; init; } = [];

    public IReadOnlyList<OnnxValueInfo> Outputs { get; init; } = [];

    /// <summary>Declared types of intermediate values, when the producer kept them.</summary>
    public IReadOnlyList<OnnxValueInfo> ValueInfo { get; init; } = [];

    /// <summary>The initializer named <paramref name="name"/>, or null.</summary>
    public OnnxTensor? FindInitializer(string name)
    {
        foreach (OnnxTensor t in Initializers)
        {
            if (t.Name == name)
                return t;
        }

        return null;
    }
}
