using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace CnnService.Engine.Format;

/// <summary>
/// Writes F32 tensors the way the reference implementation (and so <c>safetensors.torch.save_file</c>)
/// does: tensors sorted by name, <c>__metadata__</c> first, compact header padded with spaces to a
/// multiple of 8 bytes so the data starts aligned.
/// </summary>
internal static class SafeTensorsWriter
{
    // Rust sorts names as UTF-8 bytes; ordinal UTF-16 order differs for characters above U+FFFF.
    private static readonly Comparer<byte[]> Utf8Order = Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b));

    public static void Write(Stream stream, IEnumerable<NamedTensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensors);
        var sorted = Prepare(tensors);
        byte[] header = Header(sorted, metadata);

        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        foreach (var t in sorted)
        {
            if (BitConverter.IsLittleEndian)
                stream.Write(MemoryMarshal.AsBytes(t.Data.AsSpan()));
            else
                stream.Write(WeightSet.ToBytes(t.Data));
        }
    }

    /// <summary>Validated tensors in file order.</summary>
    private static List<NamedTensor> Prepare(IEnumerable<NamedTensor> tensors)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var list = new List<(NamedTensor Tensor, byte[] Key)>();
        foreach (var t in tensors)
        {
            Validate(t);
            if (!names.Add(t.Name))
                throw new ArgumentException($"tensor '{t.Name}' appears more than once", nameof(tensors));
            list.Add((t, Encoding.UTF8.GetBytes(t.Name)));
        }
        return list.OrderBy(x => x.Key, Utf8Order).Select(x => x.Tensor).ToList();
    }

    private static byte[] Header(List<NamedTensor> sorted, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            if (metadata is not null)
            {
                w.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                    w.WriteString(key, value ?? throw new ArgumentException($"metadata '{key}' is null", nameof(metadata)));
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in sorted)
            {
                long end = checked(offset + (long)t.Data.Length * sizeof(float));
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", SafeTensorsDtype.F32);
                w.WriteStartArray("shape");
                foreach (int d in t.Shape)
                    w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(end);
                w.WriteEndArray();
                w.WriteEndObject();
                offset = end;
            }
            w.WriteEndObject();
        }
        int padding = (8 - buffer.WrittenCount % 8) % 8;
        var header = new byte[buffer.WrittenCount + padding];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    /// <summary>Rejects a tensor that would make an unreadable file (programming error, hence ArgumentException).</summary>
    public static void Validate(NamedTensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (t.Name is null || t.Shape is null || t.Data is null)
            throw new ArgumentException("a NamedTensor has a null Name, Shape or Data");
        if (t.Name == "__metadata__")
            throw new ArgumentException("'__metadata__' is reserved and cannot name a tensor");
        if (t.Shape.Any(d => d < 0))
            throw new ArgumentException($"tensor '{t.Name}' has a negative dimension in shape {SafeTensorsEntryReader.Format(t.Shape)}");
        long count = t.Shape.Contains(0) ? 0 : 1;
        try
        {
            foreach (int d in t.Shape)
                count = checked(count * d);
        }
        catch (OverflowException)
        {
            count = -1; // cannot match any array length
        }
        if (count != t.Data.Length)
            throw new ArgumentException($"tensor '{t.Name}' has shape {SafeTensorsEntryReader.Format(t.Shape)} but {t.Data.Length} values");
    }
}
