namespace CnnService.Engine.Onnx;

/// <summary>ONNX's <c>TensorProto.DataType</c>, with ONNX's numbers.</summary>
public enum OnnxDataType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    UInt32 = 12,
    UInt64 = 13,
    Complex64 = 14,
    Complex128 = 15,
    BFloat16 = 16,
    Float8E4M3FN = 17,
    Float8E4M3FNUZ = 18,
    Float8E5M2 = 19,
    Float8E5M2FNUZ = 20,
    UInt4 = 21,
    Int4 = 22,
    Float4E2M1 = 23,
}

/// <summary>Sizes and names of <see cref="OnnxDataType"/> values.</summary>
public static class OnnxDataTypes
{
    /// <summary>
    /// Bytes per element in raw_data (little-endian), or 0 for types this layer does not hold in
    /// memory: STRING (variable length), the 4-bit types (two per byte) and unknown numbers.
    /// </summary>
    public static int ElementSize(OnnxDataType type) => type switch
    {
        OnnxDataType.Float or OnnxDataType.Int32 or OnnxDataType.UInt32 => 4,
        OnnxDataType.UInt8 or OnnxDataType.Int8 or OnnxDataType.Bool => 1,
        OnnxDataType.Float8E4M3FN or OnnxDataType.Float8E4M3FNUZ or OnnxDataType.Float8E5M2 or OnnxDataType.Float8E5M2FNUZ => 1,
        OnnxDataType.UInt16 or OnnxDataType.Int16 or OnnxDataType.Float16 or OnnxDataType.BFloat16 => 2,
        OnnxDataType.Int64 or OnnxDataType.UInt64 or OnnxDataType.Double or OnnxDataType.Complex64 => 8,
        OnnxDataType.Complex128 => 16,
        _ => 0,
    };

    /// <summary>ONNX's spelling (FLOAT, INT64, ...), or the number for a value ONNX does not define.</summary>
    public static string Name(OnnxDataType type) => Enum.IsDefined(type) ? type.ToString().ToUpperInvariant() : ((int)type).ToString();
}
