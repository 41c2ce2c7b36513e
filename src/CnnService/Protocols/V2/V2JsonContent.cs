using System.Text.Json;
using CnnService.Inference;

namespace CnnService.Protocols.V2;

/// <summary>
/// An input's JSON <c>"data"</c>: row-major, flat (<c>[1, 2, 3, 4]</c>) or nested (<c>[[1, 2], [3, 4]]</c>), as the
/// protocol allows. Numbers for the numeric types (integers in range for the integer ones); base64 strings for BYTES,
/// since an encoded image is not text. Errors name the input and the flattened element index.
/// </summary>
internal sealed class V2JsonContent(JsonElement data) : TensorContent
{
    public override long CountElements(string input, TensorDatatype datatype) => Count(data);

    private static long Count(JsonElement array)
    {
        long count = 0;
        foreach (JsonElement item in array.EnumerateArray())
            count += item.ValueKind == JsonValueKind.Array ? Count(item) : 1;
        return count;
    }

    public override void ReadNumbers(string input, TensorDatatype datatype, Span<float> destination)
    {
        int written = 0;
        Fill(data, input, datatype, destination, ref written);
    }

    private static void Fill(JsonElement array, string input, TensorDatatype datatype, Span<float> destination, ref int written)
    {
        foreach (JsonElement item in array.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Array)
            {
                Fill(item, input, datatype, destination, ref written);
                continue;
            }

            destination[written] = Number(item, input, datatype, written);
            written++;
        }
    }

    private static float Number(JsonElement item, string input, TensorDatatype datatype, int index)
    {
        if (item.ValueKind != JsonValueKind.Number)
            throw InferenceException.Invalid($"Input \"{input}\": element {index} is {item.ValueKind.ToString().ToLowerInvariant()}, not a number ({datatype.Name()}).");
        if (datatype.IsFloat())
        {
            if (!item.TryGetDouble(out double value))
                throw InferenceException.Invalid($"Input \"{input}\": element {index} ({item.GetRawText()}) is not a {datatype.Name()} value.");
            return datatype == TensorDatatype.FP16 ? (float)(Half)value : (float)value;
        }

        (long min, ulong max) = datatype switch
        {
            TensorDatatype.UInt8 => (0L, byte.MaxValue),
            TensorDatatype.UInt16 => (0L, ushort.MaxValue),
            TensorDatatype.UInt32 => (0L, uint.MaxValue),
            TensorDatatype.UInt64 => (0L, ulong.MaxValue),
            TensorDatatype.Int8 => (sbyte.MinValue, (ulong)sbyte.MaxValue),
            TensorDatatype.Int16 => (short.MinValue, (ulong)short.MaxValue),
            TensorDatatype.Int32 => (int.MinValue, (ulong)int.MaxValue),
            _ => (long.MinValue, (ulong)long.MaxValue),
        };
        if (item.TryGetInt64(out long signed) && signed >= min && (signed < 0 || (ulong)signed <= max)) return signed;
        if (min == 0 && item.TryGetUInt64(out ulong unsigned) && unsigned <= max) return unsigned;
        throw InferenceException.Invalid($"Input \"{input}\": element {index} ({item.GetRawText()}) is not a {datatype.Name()} value.");
    }

    public override void ReadBytes(string input, BytesElementHandler handler)
    {
        int index = 0;
        ReadStrings(data, input, handler, ref index);
    }

    private static void ReadStrings(JsonElement array, string input, BytesElementHandler handler, ref int index)
    {
        foreach (JsonElement item in array.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Array)
            {
                ReadStrings(item, input, handler, ref index);
                continue;
            }

            if (item.ValueKind != JsonValueKind.String || !item.TryGetBytesFromBase64(out byte[]? bytes))
                throw InferenceException.Invalid($"Input \"{input}\": element {index} must be a base64 string (an encoded image); raw bytes go in the binary extension.");
            handler(index++, bytes);
        }
    }
}
