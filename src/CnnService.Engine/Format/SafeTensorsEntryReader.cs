using System.Text.Json;
using Entry = CnnService.Engine.Format.SafeTensorsHeader.Entry;

namespace CnnService.Engine.Format;

/// <summary>Reads and cross-checks the entries of a safetensors header (see <see cref="SafeTensorsHeader"/>).</summary>
internal sealed class SafeTensorsEntryReader(string fileName)
{
    public ModelFormatException Error(string message) => new($"{fileName}: {message}");

    private ModelFormatException Error(string tensor, string message) =>
        new($"{fileName}: tensor '{FieldReader.Shorten(tensor)}': {message}");

    public (List<Entry>, Dictionary<string, string>) Read(JsonElement root, long dataLength)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw Error($"header must be a JSON object, got {root.ValueKind}");
        var entries = new List<Entry>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        // JsonDocument keeps duplicate keys; the reference (a hash map) would silently keep one.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in root.EnumerateObject())
        {
            if (!seen.Add(p.Name))
                throw Error(p.Name == "__metadata__"
                    ? "header has \"__metadata__\" more than once"
                    : $"tensor name '{FieldReader.Shorten(p.Name)}' appears more than once in the header");
            if (p.Name == "__metadata__")
                ReadMetadata(p.Value, metadata);
            else
                entries.Add(ReadEntry(p.Name, p.Value, dataLength));
        }
        CheckLayout(entries, dataLength);
        return (entries, metadata);
    }

    private void ReadMetadata(JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind == JsonValueKind.Null)
            return; // the reference writes Option<...>: null means none
        if (value.ValueKind != JsonValueKind.Object)
            throw Error($"\"__metadata__\" must be an object of strings, got {value.ValueKind}");
        foreach (var p in value.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String)
                throw Error($"\"__metadata__\" value of '{FieldReader.Shorten(p.Name)}' must be a string, got {p.Value.ValueKind}");
            if (!metadata.TryAdd(p.Name, p.Value.GetString()!))
                throw Error($"\"__metadata__\" has key '{FieldReader.Shorten(p.Name)}' more than once");
        }
    }

    private Entry ReadEntry(string name, JsonElement value, long dataLength)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Error(name, $"header entry must be an object with dtype, shape and data_offsets, got {value.ValueKind}");
        JsonElement? dtypeValue = null, shapeValue = null, offsetsValue = null;
        foreach (var p in value.EnumerateObject())
        {
            switch (p.Name)
            {
                case "dtype": Set(ref dtypeValue, name, p); break;
                case "shape": Set(ref shapeValue, name, p); break;
                case "data_offsets": Set(ref offsetsValue, name, p); break;
                default: break; // other keys are ignored, as the reference does
            }
        }

        string dtype = ReadDtype(name, dtypeValue ?? throw Error(name, "header entry lacks \"dtype\""));
        int[] shape = ReadShape(name, shapeValue ?? throw Error(name, "header entry lacks \"shape\""));
        var (begin, end) = ReadOffsets(name, offsetsValue ?? throw Error(name, "header entry lacks \"data_offsets\""), dataLength);

        long elements = ElementCount(name, shape);
        SafeTensorsDtype.TryGetBits(dtype, out int bits);
        long bitCount = checked(elements * bits); // <= 2^31 * 64: cannot overflow
        if (bitCount % 8 != 0)
            throw Error(name, $"{elements} elements of {dtype} are not a whole number of bytes");
        if (end - begin != bitCount / 8)
            throw Error(name, $"data_offsets [{begin}, {end}] hold {end - begin} bytes, but {dtype} {Format(shape)} needs {bitCount / 8}");
        return new Entry(name, dtype, shape, begin, end);
    }

    private void Set(ref JsonElement? slot, string tensor, JsonProperty p)
    {
        if (slot is not null)
            throw Error(tensor, $"header entry has \"{p.Name}\" more than once");
        slot = p.Value;
    }

    private string ReadDtype(string name, JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String && value.GetString() is { } s && SafeTensorsDtype.TryGetBits(s, out _))
            return s;
        throw Error(name, $"unknown dtype {FieldReader.Show(value)}; known dtypes: {SafeTensorsDtype.KnownList}");
    }

    private int[] ReadShape(string name, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array)
            throw Error(name, $"\"shape\" must be an array of non-negative integers, got {FieldReader.Show(value)}");
        var shape = new int[value.GetArrayLength()]; // bounded by the header's size, which is bounded
        int i = 0;
        foreach (var d in value.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long n))
                throw Error(name, $"\"shape\" must be an array of non-negative integers, got {FieldReader.Show(value)}");
            if (n < 0)
                throw Error(name, $"\"shape\" has a negative dimension {n}");
            if (n > int.MaxValue)
                throw Error(name, $"\"shape\" dimension {n} is too large (limit {int.MaxValue})");
            shape[i++] = (int)n;
        }
        return shape;
    }

    private (long Begin, long End) ReadOffsets(string name, JsonElement value, long dataLength)
    {
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() != 2
            || !TryOffset(value[0], out ulong begin) || !TryOffset(value[1], out ulong end))
            throw Error(name, $"\"data_offsets\" must be two non-negative integers [begin, end], got {FieldReader.Show(value)}");
        if (begin > end)
            throw Error(name, $"\"data_offsets\" [{begin}, {end}] ends before it begins");
        if (end > (ulong)dataLength)
            throw Error(name, $"\"data_offsets\" [{begin}, {end}] go beyond the end of the data buffer ({dataLength} bytes)");
        return ((long)begin, (long)end);
    }

    private long ElementCount(string name, int[] shape)
    {
        if (shape.Contains(0))
            return 0;
        long count = 1;
        try
        {
            foreach (int d in shape)
            {
                count = checked(count * d);
                if (count > SafeTensorsHeader.MaxElements)
                    throw new OverflowException();
            }
        }
        catch (OverflowException)
        {
            throw Error(name, $"shape {Format(shape)} has more than {SafeTensorsHeader.MaxElements} elements");
        }
        return count;
    }

    /// <summary>The buffer must be covered exactly: no overlaps, no holes, nothing left over (as in the spec).</summary>
    private void CheckLayout(List<Entry> entries, long dataLength)
    {
        var byOffset = entries.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
        long expected = 0;
        Entry? previous = null;
        foreach (var e in byOffset)
        {
            if (e.Begin < expected)
                throw Error($"tensors '{FieldReader.Shorten(previous!.Name)}' and '{FieldReader.Shorten(e.Name)}' overlap in the data buffer");
            if (e.Begin > expected)
                throw Error($"data buffer bytes {expected}..{e.Begin} (before tensor '{FieldReader.Shorten(e.Name)}') are not covered by any tensor");
            expected = e.End;
            previous = e;
        }
        if (expected != dataLength)
            throw Error($"the last {dataLength - expected} bytes of the data buffer are not covered by any tensor");
    }

    private static bool TryOffset(JsonElement e, out ulong value)
    {
        value = 0;
        return e.ValueKind == JsonValueKind.Number && e.TryGetUInt64(out value);
    }

    /// <summary>"[32,1,3,3]", as in error messages.</summary>
    public static string Format(int[] shape) => $"[{string.Join(",", shape)}]";
}
