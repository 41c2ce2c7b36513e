using System.Buffers.Binary;

namespace CnnService.Engine.Onnx;

/// <summary>
/// Protocol buffers encoder. A nested message's length must precede it, so each message is written
/// twice: once into a counting writer (no output, so raw tensor bytes cost nothing) to learn its
/// length, then for real. ONNX nests about six deep, so the repeated counting stays cheap.
/// </summary>
internal sealed class ProtoWriter(Stream? output)
{
    /// <summary>Bytes written (or, for a counting writer, that would have been).</summary>
    public long Length { get; private set; }

    public void Tag(int field, WireType wire) => Varint(((ulong)field << 3) | (uint)wire);

    public void Varint(ulong value)
    {
        Span<byte> buffer = stackalloc byte[10];
        int n = 0;
        while (value >= 0x80)
        {
            buffer[n++] = (byte)(value | 0x80);
            value >>= 7;
        }

        buffer[n++] = (byte)value;
        Raw(buffer[..n]);
    }

    public void Int64(int field, long value)
    {
        Tag(field, WireType.Varint);
        Varint((ulong)value);
    }

    /// <summary>An int64 field, left out when 0 (the default a reader assumes).</summary>
    public void Int64IfSet(int field, long value)
    {
        if (value != 0)
            Int64(field, value);
    }

    public void Float(int field, float value)
    {
        Tag(field, WireType.Fixed32);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(b, value);
        Raw(b);
    }

    public void Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, WireType.LengthDelimited);
        Varint((ulong)value.Length);
        Raw(value);
    }

    public void String(int field, string value)
    {
        // Names are short; encoding into a temporary array keeps the writer simple.
        Bytes(field, System.Text.Encoding.UTF8.GetBytes(value));
    }

    /// <summary>A string field, left out when empty.</summary>
    public void StringIfSet(int field, string value)
    {
        if (value.Length > 0)
            String(field, value);
    }

    public void PackedInt64s(int field, ReadOnlySpan<long> values)
    {
        var counter = new ProtoWriter(null);
        foreach (long v in values) counter.Varint((ulong)v);
        Tag(field, WireType.LengthDelimited);
        Varint((ulong)counter.Length);
        foreach (long v in values) Varint((ulong)v);
    }

    public void PackedFloats(int field, ReadOnlySpan<float> values)
    {
        Tag(field, WireType.LengthDelimited);
        Varint((ulong)values.Length * 4);
        Span<byte> b = stackalloc byte[4];
        foreach (float v in values)
        {
            BinaryPrimitives.WriteSingleLittleEndian(b, v);
            Raw(b);
        }
    }

    /// <summary>A nested message: its length, counted by a dry run of <paramref name="write"/>, then the message.</summary>
    public void Message<T>(int field, T value, Action<ProtoWriter, T> write)
    {
        var counter = new ProtoWriter(null);
        write(counter, value);
        Tag(field, WireType.LengthDelimited);
        Varint((ulong)counter.Length);
        long before = Length;
        write(this, value);
        if (Length - before != counter.Length)
            throw new InvalidOperationException($"message of field {field} wrote {Length - before} bytes after counting {counter.Length}");
    }

    private void Raw(ReadOnlySpan<byte> bytes)
    {
        output?.Write(bytes);
        Length += bytes.Length;
    }
}
