using System.Globalization;
using CnnService.Inference;
using Google.Protobuf.Collections;

namespace CnnService.Protocols.Grpc;

/// <summary>
/// An input's typed <c>contents</c>: its elements in the one repeated field of its datatype (UINT8/16/32 in
/// <c>uint_contents</c>, INT8/16/32 in <c>int_contents</c>, FP32 in <c>fp32_contents</c>, BYTES in
/// <c>bytes_contents</c>, ...). Elements in another field, and values out of the datatype's range, are refused naming
/// the input; FP16 has no field and must come raw.
/// </summary>
internal sealed class GrpcTensorContent(InferTensorContents contents) : TensorContent
{
    public override long CountElements(string input, TensorDatatype datatype)
    {
        string field = FieldOf(input, datatype);
        long count = 0;
        foreach ((string name, int length) in Lengths())
        {
            if (name == field) count = length;
            else if (length > 0)
                throw InferenceException.Invalid($"Input \"{input}\": a {datatype.Name()} tensor's elements go in contents.{field}, not contents.{name}.");
        }

        return count;
    }

    public override void ReadNumbers(string input, TensorDatatype datatype, Span<float> destination)
    {
        switch (datatype)
        {
            case TensorDatatype.Bool:
                for (int i = 0; i < destination.Length; i++) destination[i] = contents.BoolContents[i] ? 1f : 0f;
                break;
            case TensorDatatype.UInt8 or TensorDatatype.UInt16 or TensorDatatype.UInt32:
                ReadUnsigned(input, datatype, contents.UintContents, destination);
                break;
            case TensorDatatype.UInt64:
                for (int i = 0; i < destination.Length; i++) destination[i] = contents.Uint64Contents[i];
                break;
            case TensorDatatype.Int8 or TensorDatatype.Int16 or TensorDatatype.Int32:
                ReadSigned(input, datatype, contents.IntContents, destination);
                break;
            case TensorDatatype.Int64:
                for (int i = 0; i < destination.Length; i++) destination[i] = contents.Int64Contents[i];
                break;
            case TensorDatatype.FP32:
                for (int i = 0; i < destination.Length; i++) destination[i] = contents.Fp32Contents[i];
                break;
            case TensorDatatype.FP64:
                for (int i = 0; i < destination.Length; i++) destination[i] = (float)contents.Fp64Contents[i];
                break;
            default:
                throw InferenceException.Invalid($"Input \"{input}\": {datatype.Name()} is not a numeric datatype.");
        }
    }

    public override void ReadBytes(string input, BytesElementHandler handler)
    {
        RepeatedField<Google.Protobuf.ByteString> elements = contents.BytesContents;
        for (int i = 0; i < elements.Count; i++) handler(i, elements[i].Span);
    }

    /// <summary>UINT8/16 arrive widened to uint32: a value past the datatype's range is refused, not wrapped.</summary>
    private static void ReadUnsigned(string input, TensorDatatype datatype, RepeatedField<uint> values, Span<float> destination)
    {
        uint max = datatype switch { TensorDatatype.UInt8 => byte.MaxValue, TensorDatatype.UInt16 => ushort.MaxValue, _ => uint.MaxValue };
        for (int i = 0; i < destination.Length; i++)
        {
            uint value = values[i];
            if (value > max) throw OutOfRange(input, datatype, i, value.ToString(CultureInfo.InvariantCulture));
            destination[i] = value;
        }
    }

    private static void ReadSigned(string input, TensorDatatype datatype, RepeatedField<int> values, Span<float> destination)
    {
        (int min, int max) = datatype switch
        {
            TensorDatatype.Int8 => (sbyte.MinValue, sbyte.MaxValue),
            TensorDatatype.Int16 => (short.MinValue, short.MaxValue),
            _ => (int.MinValue, int.MaxValue),
        };
        for (int i = 0; i < destination.Length; i++)
        {
            int value = values[i];
            if (value < min || value > max) throw OutOfRange(input, datatype, i, value.ToString(CultureInfo.InvariantCulture));
            destination[i] = value;
        }
    }

    private static InferenceException OutOfRange(string input, TensorDatatype datatype, int index, string value) =>
        InferenceException.Invalid($"Input \"{input}\": element {index} ({value}) is not a {datatype.Name()} value.");

    /// <summary>The field of <c>InferTensorContents</c> that holds <paramref name="datatype"/>.</summary>
    private static string FieldOf(string input, TensorDatatype datatype) => datatype switch
    {
        TensorDatatype.Bool => "bool_contents",
        TensorDatatype.UInt8 or TensorDatatype.UInt16 or TensorDatatype.UInt32 => "uint_contents",
        TensorDatatype.UInt64 => "uint64_contents",
        TensorDatatype.Int8 or TensorDatatype.Int16 or TensorDatatype.Int32 => "int_contents",
        TensorDatatype.Int64 => "int64_contents",
        TensorDatatype.FP32 => "fp32_contents",
        TensorDatatype.FP64 => "fp64_contents",
        TensorDatatype.Bytes => "bytes_contents",
        _ => throw InferenceException.Invalid($"Input \"{input}\": {datatype.Name()} has no typed contents field; send it in raw_input_contents."),
    };

    private (string Name, int Length)[] Lengths() =>
    [
        ("bool_contents", contents.BoolContents.Count), ("int_contents", contents.IntContents.Count),
        ("int64_contents", contents.Int64Contents.Count), ("uint_contents", contents.UintContents.Count),
        ("uint64_contents", contents.Uint64Contents.Count), ("fp32_contents", contents.Fp32Contents.Count),
        ("fp64_contents", contents.Fp64Contents.Count), ("bytes_contents", contents.BytesContents.Count),
    ];
}
