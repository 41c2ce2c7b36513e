using CnnService.Engine.Format;

namespace CnnService.Engine.Onnx;

/// <summary>
/// A graph node (<c>NodeProto</c>): an operator applied to named values. An empty input name stands
/// for an optional input that is left out, as in ONNX.
/// </summary>
public sealed class OnnxNode
{
    public string Name { get; init; } = "";

    public required string OpType { get; init; }

    /// <summary>The operator set's domain; "" (or "ai.onnx") is the default ONNX domain.</summary>
    public string Domain { get; init; } = "";

    public IReadOnlyList<string> Inputs { get; init; } = [];

    public IReadOnlyList<string> Outputs { get; init; } = [];

    /// <summary>The attributes by name (names are unique: the reader refuses a repeated one).</summary>
    public IReadOnlyDictionary<string, OnnxAttribute> Attributes { get; init; } = new Dictionary<string, OnnxAttribute>();

    /// <summary>An INT attribute, or <paramref name="fallback"/> when absent.</summary>
    /// <exception cref="ModelFormatException">The attribute has another type.</exception>
    public long GetInt(string name, long fallback) => Find(name, OnnxAttributeType.Int)?.I ?? fallback;

    /// <summary>A FLOAT attribute, or <paramref name="fallback"/> when absent.</summary>
    public float GetFloat(string name, float fallback) => Find(name, OnnxAttributeType.Float)?.F ?? fallback;

    /// <summary>A STRING attribute as UTF-8 text, or <paramref name="fallback"/> when absent.</summary>
    public string? GetString(string name, string? fallback) => Find(name, OnnxAttributeType.String)?.SAsString ?? fallback;

    /// <summary>An INTS attribute, or null when absent.</summary>
    public long[]? GetInts(string name) => Find(name, OnnxAttributeType.Ints)?.Ints;

    /// <summary>A FLOATS attribute, or null when absent.</summary>
    public float[]? GetFloats(string name) => Find(name, OnnxAttributeType.Floats)?.Floats;

    /// <summary>A TENSOR attribute, or null when absent.</summary>
    public OnnxTensor? GetTensor(string name) => Find(name, OnnxAttributeType.Tensor)?.T;

    private OnnxAttribute? Find(string name, OnnxAttributeType type)
    {
        if (!Attributes.TryGetValue(name, out OnnxAttribute? a))
            return null;
        if (a.Type != type)
            throw new ModelFormatException($"node '{Name}' ({OpType}): attribute '{name}' is {a.Type.ToString().ToUpperInvariant()}, expected {type.ToString().ToUpperInvariant()}");
        return a;
    }
}
