using System.Buffers.Binary;
using System.Runtime.InteropServices;
using CnnService.Engine.Format;

namespace CnnService.Engine.Onnx;

/// <summary>
/// An ONNX tensor (<c>TensorProto</c>): a graph initializer or an attribute value. Whatever field
/// the file kept the values in (raw_data, float_data, int64_data, ..., or an external file), the
/// reader has checked their count against <see cref="Dims"/> and holds them as <see cref="Data"/>:
/// the elements' little-endian bytes, as raw_data would have them. A tensor read from a byte array
/// may share that array (raw_data and packed float/double data are not copied).
/// </summary>
public sealed class OnnxTensor
{
    /// <summary>A tensor of a fixed-size type; <paramref name="data"/> must hold exactly dims x element size bytes.</summary>
    public OnnxTensor(string name, OnnxDataType dataType, long[] dims, ReadOnlyMemory<byte> data)
    {
        int size = OnnxDataTypes.ElementSize(dataType);
        if (size == 0)
            throw new ArgumentException($"data type {OnnxDataTypes.Name(dataType)} has no fixed element size", nameof(dataType));
        long count = CountOf(dims);
        if (data.Length != count * size)
            throw new ArgumentException($"tensor '{name}': {count} elements of {size} bytes need {count * size} bytes, got {data.Length}", nameof(data));
        Name = name;
        DataType = dataType;
        Dims = dims;
        Data = data;
        StringData = [];
    }

    /// <summary>A STRING tensor: one byte string per element.</summary>
    public OnnxTensor(string name, long[] dims, IReadOnlyList<byte[]> strings)
    {
        if (strings.Count != CountOf(dims))
            throw new ArgumentException($"tensor '{name}': {CountOf(dims)} elements, got {strings.Count} strings", nameof(strings));
        Name = name;
        DataType = OnnxDataType.String;
        Dims = dims;
        StringData = strings;
    }

    /// <summary>A FLOAT tensor holding a copy of <paramref name="values"/>.</summary>
    public static OnnxTensor FromFloats(string name, long[] dims, ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        return new OnnxTensor(name, OnnxDataType.Float, dims, bytes);
    }

    /// <summary>An INT64 tensor holding a copy of <paramref name="values"/>.</summary>
    public static OnnxTensor FromInt64s(string name, long[] dims, ReadOnlySpan<long> values)
    {
        var bytes = new byte[values.Length * sizeof(long)];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), values[i]);
        return new OnnxTensor(name, OnnxDataType.Int64, dims, bytes);
    }

    /// <summary>The tensor's name (empty for an unnamed attribute tensor).</summary>
    public string Name { get; }

    public OnnxDataType DataType { get; }

    /// <summary>The shape; every entry is non-negative (an empty array is a scalar).</summary>
    public long[] Dims { get; }

    /// <summary>The number of elements: the product of <see cref="Dims"/> (1 for a scalar).</summary>
    public long ElementCount => CountOf(Dims);

    /// <summary>The elements' little-endian bytes (empty for STRING tensors).</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The elements of a STRING tensor (empty for every other type).</summary>
    public IReadOnlyList<byte[]> StringData { get; }

    /// <summary>
    /// The values as floats, in one new array: FLOAT as is; DOUBLE, FLOAT16 and BFLOAT16 rounded to
    /// float; integer and BOOL types converted (INT64 beyond 2^24 loses precision, as in any cast).
    /// </summary>
    /// <exception cref="ModelFormatException">For STRING, complex and 8-bit float types.</exception>
    public float[] ToFloats()
    {
        ReadOnlySpan<byte> src = Data.Span;
        var result = new float[ElementCount];
        switch (DataType)
        {
            case OnnxDataType.Float when BitConverter.IsLittleEndian:
                MemoryMarshal.Cast<byte, float>(src).CopyTo(result);
                break;
            case OnnxDataType.Float:
                for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadSingleLittleEndian(src[(i * 4)..]);
                break;
            case OnnxDataType.Double:
                for (int i = 0; i < result.Length; i++) result[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(src[(i * 8)..]);
                break;
            case OnnxDataType.Float16:
                for (int i = 0; i < result.Length; i++) result[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(src[(i * 2)..]);
                break;
            case OnnxDataType.BFloat16:
                // bfloat16 is the top half of a float32's bits.
                for (int i = 0; i < result.Length; i++) result[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src[(i * 2)..]) << 16);
                break;
            case OnnxDataType.UInt64:
                for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadUInt64LittleEndian(src[(i * 8)..]);
                break;
            default:
                long[] ints = IntegersOrThrow("floats");
                for (int i = 0; i < result.Length; i++) result[i] = ints[i];
                break;
        }

        return result;
    }

    /// <summary>The values as int64, in one new array, for the integer and BOOL types.</summary>
    /// <exception cref="ModelFormatException">For float, STRING and complex types, and UINT64 values above long.MaxValue.</exception>
    public long[] ToInt64s()
    {
        if (DataType == OnnxDataType.UInt64)
        {
            ReadOnlySpan<byte> src = Data.Span;
            var result = new long[ElementCount];
            for (int i = 0; i < result.Length; i++)
            {
                ulong v = BinaryPrimitives.ReadUInt64LittleEndian(src[(i * 8)..]);
                result[i] = v <= long.MaxValue ? (long)v : throw new ModelFormatException($"tensor '{Name}': UINT64 value {v} does not fit an int64");
            }

            return result;
        }

        return IntegersOrThrow("int64s");
    }

    private long[] IntegersOrThrow(string target)
    {
        ReadOnlySpan<byte> src = Data.Span;
        var result = new long[ElementCount];
        switch (DataType)
        {
            case OnnxDataType.Int64:
                for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadInt64LittleEndian(src[(i * 8)..]);
                break;
            case OnnxDataType.Int32:
                for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadInt32LittleEndian(src[(i * 4)..]);
                break;
            case OnnxDataType.UInt32:
                for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadUInt32LittleEndian(src[(i * 4)..]);
                break;
            case OnnxDataType.Int16:
                for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadInt16LittleEndian(src[(i * 2)..]);
                break;
            case OnnxDataType.UInt16:
                for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadUInt16LittleEndian(src[(i * 2)..]);
                break;
            case OnnxDataType.Int8:
                for (int i = 0; i < result.Length; i++) result[i] = (sbyte)src[i];
                break;
            case OnnxDataType.UInt8:
                for (int i = 0; i < result.Length; i++) result[i] = src[i];
                break;
            case OnnxDataType.Bool:
                for (int i = 0; i < result.Length; i++) result[i] = src[i] != 0 ? 1 : 0;
                break;
            default:
                throw new ModelFormatException($"tensor '{Name}' is {OnnxDataTypes.Name(DataType)}, which cannot be read as {target}");
        }

        return result;
    }

    /// <summary>Product of the dims; the reader has already refused negatives and overflow.</summary>
    private static long CountOf(long[] dims)
    {
        long count = 1;
        foreach (long d in dims)
        {
            if (d < 0)
                throw new ArgumentException($"negative dimension {d}", nameof(dims));
            count = checked(count * d);
        }

        return count;
    }
}
