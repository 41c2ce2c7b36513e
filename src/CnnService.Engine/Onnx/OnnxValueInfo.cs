namespace CnnService.Engine.Onnx;

/// <summary>
/// One dimension of a value's shape: a number (<see cref="Value"/>), a symbolic name such as
/// "batch" (<see cref="Param"/>), or neither when the file leaves it unknown.
/// </summary>
public readonly record struct OnnxDim(long? Value, string? Param)
{
    public static OnnxDim Of(long value) => new(value, null);

    public static OnnxDim Symbolic(string param) => new(null, param);

    public static OnnxDim Unknown => new(null, null);

    public override string ToString() => Value?.ToString() ?? Param ?? "?";
}

/// <summary>
/// A graph input, output or intermediate value's declared type (<c>ValueInfoProto</c>). Only tensor
/// types are read: for a sequence, map or other type <see cref="IsTensor"/> is false.
/// </summary>
public sealed class OnnxValueInfo
{
    public required string Name { get; init; }

    /// <summary>True when the type is a tensor type (or no type is given: <see cref="ElemType"/> is then UNDEFINED).</summary>
    public bool IsTensor { get; init; } = true;

    public OnnxDataType ElemType { get; init; }

    /// <summary>The dimensions, or null when the file gives no shape at all (any rank).</summary>
    public IReadOnlyList<OnnxDim>? Dims { get; init; }
}
