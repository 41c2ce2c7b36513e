using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace CnnService.Inference;

/// <summary>
/// Tensor data in the protocol's binary form (the REST binary extension, gRPC's <c>raw_input_contents</c>):
/// little-endian, row-major, no padding; BOOL one byte; each BYTES element a 4-byte little-endian length then its bytes.
/// </summary>
public sealed class RawTensorContent(ReadOnlyMemory<byte> data) : TensorContent
{
    public override long CountElements(string input, TensorDatatype datatype)
    {
        if (datatype == TensorDatatype.Bytes) return Walk(input, null);
        int size = datatype.ElementSize();
        if (data.Length % size != 0)
            throw InferenceException.Invalid($"Input \"{input}\": {data.Length} bytes of binary data are not a whole number of {datatype.Name()} elements ({size} bytes each).");
        return data.Length / size;
    }

    public override void ReadNumbers(string input, TensorDatatype datatype, Span<float> destination) =>
        ToSingles(data.Span, datatype, destination);

    public override void ReadBytes(string input, BytesElementHandler handler) => Walk(input, handler);

    /// <summary>Length-prefixed elements; a length that runs past the end is a 400, never a read or an allocation of that size.</summary>
    private int Walk(string input, BytesElementHandler? handler)
    {
        ReadOnlySpan<byte> rest = data.Span;
        int count = 0;
        while (!rest.IsEmpty)
        {
            if (rest.Length < 4)
                throw InferenceException.Invalid($"Input \"{input}\": BYTES element {count} is cut short: {rest.Length} byte(s) where its 4-byte length should be.");
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(rest);
            if (length > rest.Length - 4)
                throw InferenceException.Invalid($"Input \"{input}\": BYTES element {count} declares {length} bytes; only {rest.Length - 4} follow.");
            handler?.Invoke(count, rest.Slice(4, (int)length));
            rest = rest[(4 + (int)length)..];
            count++;
        }

        return count;
    }

    /// <summary>Little-endian elements of <paramref name="datatype"/> to floats; <paramref name="destination"/> holds exactly their number.</summary>
    public static void ToSingles(ReadOnlySpan<byte> raw, TensorDatatype datatype, Span<float> destination)
    {
        int n = destination.Length;
        switch (datatype)
        {
            case TensorDatatype.FP32 when BitConverter.IsLittleEndian:
                MemoryMarshal.Cast<byte, float>(raw[..(n * 4)]).CopyTo(destination);
                break;
            case TensorDatatype.UInt8:
                for (int i = 0; i < n; i++) destination[i] = raw[i];
                break;
            case TensorDatatype.Int8:
                for (int i = 0; i < n; i++) destination[i] = (sbyte)raw[i];
                break;
            default:
                int size = datatype.ElementSize();
                for (int i = 0; i < n; i++) destination[i] = Element(raw.Slice(i * size, size), datatype);
                break;
        }
    }

    private static float Element(ReadOnlySpan<byte> b, TensorDatatype datatype) => datatype switch
    {
        TensorDatatype.Bool => b[0] != 0 ? 1f : 0f,
        TensorDatatype.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(b),
        TensorDatatype.UInt32 => BinaryPrimitives.ReadUInt32LittleEndian(b),
        TensorDatatype.UInt64 => BinaryPrimitives.ReadUInt64LittleEndian(b),
        TensorDatatype.Int16 => BinaryPrimitives.ReadInt16LittleEndian(b),
        TensorDatatype.Int32 => BinaryPrimitives.ReadInt32LittleEndian(b),
        TensorDatatype.Int64 => BinaryPrimitives.ReadInt64LittleEndian(b),
        TensorDatatype.FP16 => (float)BinaryPrimitives.ReadHalfLittleEndian(b),
        TensorDatatype.FP32 => BinaryPrimitives.ReadSingleLittleEndian(b),
        TensorDatatype.FP64 => (float)BinaryPrimitives.ReadDoubleLittleEndian(b),
        _ => throw new ArgumentOutOfRangeException(nameof(datatype), datatype, "not a numeric datatype"),
    };
}
