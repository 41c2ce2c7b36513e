using System.Buffers.Binary;

namespace CnnService.Engine.Onnx;

/// <summary>
/// Decodes a TensorProto. A first pass notes where the values are and how many there are (counted
/// from the bytes present); only once that count agrees with the dims is anything of that size
/// allocated, once. raw_data and a single run of packed float/double data are not copied at all.
/// </summary>
internal static class OnnxTensorReader
{
    /// <summary>Tensors with more elements than this (2^31) are refused, whatever their data says.</summary>
    public const long MaxElements = 1L << 31;

    private const int DimsField = 1, FloatField = 4, Int32Field = 5, Int64Field = 7, DoubleField = 10, UInt64Field = 11;

    public static OnnxTensor Read(ProtoReader message, OnnxReadContext c, string fallbackWhere)
    {
        string name = "";
        int dataType = 0, location = 0;
        bool hasRaw = false;
        int rawOffset = 0, rawLength = 0;
        long floats = 0, doubles = 0, int32s = 0, int64s = 0, uint64s = 0;
        int fixedRuns = 0, firstRunOffset = 0;
        var strings = new List<byte[]>();
        var external = new List<KeyValuePair<string, string>>();
        for (ProtoReader r = message; r.NextField();)
        {
            switch (r.Field)
            {
                case DimsField: r.ReadRepeatedVarints("TensorProto.dims"); break; // read below, by Repeated
                case 2: dataType = r.ReadInt32("TensorProto.data_type"); break;
                case 3: throw c.Error($"{fallbackWhere}: segmented tensors (TensorProto.segment) are not supported");
                case FloatField:
                    floats += FixedRun(ref r, 4, "TensorProto.float_data", ref fixedRuns, ref firstRunOffset);
                    break;
                case Int32Field: int32s += r.CountVarints(r.ReadRepeatedVarints("TensorProto.int32_data"), "TensorProto.int32_data"); break;
                case 6: strings.Add(r.ReadBytes("TensorProto.string_data").ToArray()); break;
                case Int64Field: int64s += r.CountVarints(r.ReadRepeatedVarints("TensorProto.int64_data"), "TensorProto.int64_data"); break;
                case 8: name = r.ReadString("TensorProto.name"); break;
                case 9:
                    rawLength = r.ReadBytes("TensorProto.raw_data").Length;
                    rawOffset = r.Position - rawLength;
                    hasRaw = true;
                    break;
                case DoubleField:
                    doubles += FixedRun(ref r, 8, "TensorProto.double_data", ref fixedRuns, ref firstRunOffset);
                    break;
                case UInt64Field: uint64s += r.CountVarints(r.ReadRepeatedVarints("TensorProto.uint64_data"), "TensorProto.uint64_data"); break;
                case 13: external.Add(OnnxMessageReader.ReadEntry(r.ReadMessage("TensorProto.external_data"))); break;
                case 14: location = r.ReadInt32("TensorProto.data_location"); break;
                default: r.Skip(); break;
            }
        }

        string where = name.Length > 0 ? $"tensor '{name}'" : fallbackWhere;
        long[] dims = Repeated.Int64s(message, DimsField, "TensorProto.dims");
        long count = ElementCount(dims, c, where);
        var type = (OnnxDataType)dataType;
        if (dataType == 0)
            throw c.Error($"{where} has no data_type");
        if (!Enum.IsDefined(type))
            throw c.Error($"{where} has unknown data_type {dataType}");
        int size = OnnxDataTypes.ElementSize(type);
        if (size == 0 && type != OnnxDataType.String)
            throw c.Error($"{where}: data type {OnnxDataTypes.Name(type)} is not supported");
        if (location is not (0 or 1))
            throw c.Error($"{where} has unknown data_location {location}");

        string shape = $"dims [{string.Join(", ", dims)}] ({count} elements of {OnnxDataTypes.Name(type)})";
        string? inline = InlineSource(hasRaw, floats, int32s, strings.Count, int64s, doubles, uint64s, c, where);
        if (location == 1 && inline is not null)
            throw c.Error($"{where} has external data and {inline} as well");

        if (type == OnnxDataType.String)
        {
            if (inline is not null && inline != "string_data" || location == 1)
                throw c.Error($"{where} is STRING, but its data is not in string_data");
            if (strings.Count != count)
                throw c.Error($"{where}: {shape}, but string_data has {strings.Count}");
            return new OnnxTensor(name, dims, strings);
        }

        long bytes = count * size;
        if (bytes > Array.MaxLength)
            throw c.Error($"{where}: {shape} are {bytes} bytes, more than one array can hold");
        if (location == 1)
            return new OnnxTensor(name, type, dims, OnnxExternalData.Load(c, external, bytes, where));
        if (hasRaw)
        {
            if (rawLength != bytes)
                throw c.Error($"{where}: {shape} need {bytes} bytes, but raw_data has {rawLength}");
            return new OnnxTensor(name, type, dims, new ReadOnlyMemory<byte>(c.Bytes, rawOffset, rawLength));
        }

        if (inline is null)
        {
            if (count != 0)
                throw c.Error($"{where}: {shape}, but it has no data");
            return new OnnxTensor(name, type, dims, ReadOnlyMemory<byte>.Empty);
        }

        // Which typed field holds which types, and how many values per element (two for complex).
        (int field, long values, bool fits, int perElement) = inline switch
        {
            "float_data" => (FloatField, floats, type is OnnxDataType.Float or OnnxDataType.Complex64, type == OnnxDataType.Complex64 ? 2 : 1),
            "double_data" => (DoubleField, doubles, type is OnnxDataType.Double or OnnxDataType.Complex128, type == OnnxDataType.Complex128 ? 2 : 1),
            "int64_data" => (Int64Field, int64s, type == OnnxDataType.Int64, 1),
            "uint64_data" => (UInt64Field, uint64s, type is OnnxDataType.UInt32 or OnnxDataType.UInt64, 1),
            "int32_data" => (Int32Field, int32s, type is not (OnnxDataType.Float or OnnxDataType.Double or OnnxDataType.Int64
                or OnnxDataType.UInt32 or OnnxDataType.UInt64 or OnnxDataType.Complex64 or OnnxDataType.Complex128), 1),
            _ => throw c.Error($"{where} is {OnnxDataTypes.Name(type)}, but its data is in {inline}"),
        };
        if (!fits)
            throw c.Error($"{where} is {OnnxDataTypes.Name(type)}, but its data is in {inline}");
        if (values != count * perElement)
            throw c.Error($"{where}: {shape}, but {inline} has {values} values");

        bool isFixed = field is FloatField or DoubleField;
        if (isFixed && fixedRuns == 1)
            return new OnnxTensor(name, type, dims, new ReadOnlyMemory<byte>(c.Bytes, firstRunOffset, (int)bytes));
        return new OnnxTensor(name, type, dims, Gather(message, field, isFixed, size, (int)bytes));
    }

    private static int FixedRun(ref ProtoReader r, int size, string what, ref int runs, ref int firstOffset)
    {
        ReadOnlySpan<byte> run = r.ReadRepeatedFixed(size, what);
        if (runs++ == 0)
            firstOffset = r.Position - run.Length;
        return run.Length / size;
    }

    /// <summary>The one inline data field in use, or null; two at once are refused.</summary>
    private static string? InlineSource(bool raw, long floats, long int32s, int strings, long int64s, long doubles, long uint64s,
        OnnxReadContext c, string where)
    {
        string? found = null;
        Note(raw, "raw_data");
        Note(floats > 0, "float_data");
        Note(int32s > 0, "int32_data");
        Note(strings > 0, "string_data");
        Note(int64s > 0, "int64_data");
        Note(doubles > 0, "double_data");
        Note(uint64s > 0, "uint64_data");
        return found;

        void Note(bool present, string field)
        {
            if (!present)
                return;
            if (found is not null)
                throw c.Error($"{where} has both {found} and {field}");
            found = field;
        }
    }

    /// <summary>Product of the dims, refusing negatives, int64 overflow and more than <see cref="MaxElements"/>.</summary>
    internal static long ElementCount(long[] dims, OnnxReadContext c, string where)
    {
        bool zero = false;
        foreach (long d in dims)
        {
            if (d < 0)
                throw c.Error($"{where}: dims [{string.Join(", ", dims)}] has a negative dimension");
            zero |= d == 0;
        }

        if (zero)
            return 0;
        long count = 1;
        foreach (long d in dims)
        {
            if (d > long.MaxValue / count)
                throw c.Error($"{where}: the product of dims [{string.Join(", ", dims)}] overflows int64");
            count *= d;
        }

        if (count > MaxElements)
            throw c.Error($"{where}: dims [{string.Join(", ", dims)}] make {count} elements, more than the limit of {MaxElements}");
        return count;
    }

    /// <summary>Second pass: copies every run of a typed field into one array of the elements' little-endian bytes.</summary>
    private static byte[] Gather(ProtoReader message, int field, bool isFixed, int size, int length)
    {
        var result = new byte[length];
        int n = 0;
        for (ProtoReader r = message; r.NextField();)
        {
            if (r.Field != field)
            {
                r.Skip();
                continue;
            }

            if (isFixed)
            {
                ReadOnlySpan<byte> run = r.ReadRepeatedFixed(field == FloatField ? 4 : 8, "tensor data");
                run.CopyTo(result.AsSpan(n));
                n += run.Length;
                continue;
            }

            ReadOnlySpan<byte> packed = r.ReadRepeatedVarints("tensor data");
            for (int pos = 0; pos < packed.Length; n += size)
            {
                ulong v = r.NextVarint(packed, ref pos, "tensor data");
                Span<byte> dest = result.AsSpan(n, size);
                // int32_data keeps narrow types (and float16 bits) in the low bits of each value.
                switch (size)
                {
                    case 1: dest[0] = (byte)v; break;
                    case 2: BinaryPrimitives.WriteUInt16LittleEndian(dest, (ushort)v); break;
                    case 4: BinaryPrimitives.WriteUInt32LittleEndian(dest, (uint)v); break;
                    default: BinaryPrimitives.WriteUInt64LittleEndian(dest, v); break;
                }
            }
        }

        return result;
    }
}
