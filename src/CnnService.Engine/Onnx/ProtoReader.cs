using System.Buffers.Binary;
using System.Text;
using CnnService.Engine.Format;

namespace CnnService.Engine.Onnx;

/// <summary>Protocol buffers wire types (the low 3 bits of a field's tag).</summary>
internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}

/// <summary>
/// A forward-only protocol buffers reader over one message's bytes. Every read is checked against
/// the bytes that remain, so a hostile length or varint is a <see cref="ModelFormatException"/>
/// naming the file and the byte offset, never an out-of-range read or an allocation of the declared
/// size. Being a struct, a copy is a bookmark: copy it, read on, and the copy reads again from the mark.
/// </summary>
internal ref struct ProtoReader
{
    /// <summary>Nested messages deeper than this are refused (ONNX models nest about six deep).</summary>
    public const int MaxDepth = 64;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ReadOnlySpan<byte> _buffer;
    private readonly int _origin; // offset of _buffer[0] in the file, for messages and zero-copy slices
    private readonly string _fileName;
    private int _pos;

    public ProtoReader(ReadOnlySpan<byte> buffer, string fileName) : this(buffer, 0, fileName, 0) { }

    private ProtoReader(ReadOnlySpan<byte> buffer, int origin, string fileName, int depth)
    {
        _buffer = buffer;
        _origin = origin;
        _fileName = fileName;
        Depth = depth;
    }

    /// <summary>Nesting depth of this message: 0 for the top-level one.</summary>
    public int Depth { get; }

    /// <summary>The field number of the tag read by the last <see cref="NextField"/>.</summary>
    public int Field { get; private set; }

    /// <summary>The wire type of the tag read by the last <see cref="NextField"/>.</summary>
    public WireType WireType { get; private set; }

    /// <summary>Offset in the file of the next byte to read.</summary>
    public readonly int Position => _origin + _pos;

    public readonly string FileName => _fileName;

    public readonly ModelFormatException Error(string message) => new($"{_fileName}: {message}");

    /// <summary>Reads the next tag; false at the end of the message. Groups and wire types 6 and 7 are refused.</summary>
    public bool NextField()
    {
        if (_pos >= _buffer.Length)
            return false;
        int at = Position;
        ulong tag = ReadRawVarint();
        if (tag > uint.MaxValue || (tag >> 3) == 0)
            throw Error($"invalid field tag {tag} at byte {at}");
        Field = (int)(tag >> 3);
        int wire = (int)(tag & 7);
        if (wire is 3 or 4)
            throw Error($"field {Field} at byte {at} is a group (wire type {wire}); groups are not supported");
        if (wire is 6 or 7)
            throw Error($"field {Field} at byte {at} has invalid wire type {wire}");
        WireType = (WireType)wire;
        return true;
    }

    /// <summary>Skips the value of the current field, whatever its wire type.</summary>
    public void Skip()
    {
        switch (WireType)
        {
            case WireType.Varint: ReadRawVarint(); break;
            case WireType.Fixed64: Take(8, "fixed64"); break;
            case WireType.Fixed32: Take(4, "fixed32"); break;
            default: ReadLengthDelimited(); break;
        }
    }

    /// <summary>An int64 (or uint64, reinterpreted) field.</summary>
    public long ReadInt64(string what)
    {
        Expect(WireType.Varint, what);
        return (long)ReadRawVarint();
    }

    /// <summary>An int32 or enum field: a varint whose value must fit an int (negatives are sign-extended to 64 bits).</summary>
    public int ReadInt32(string what)
    {
        int at = Position;
        long value = ReadInt64(what);
        if (value is < int.MinValue or > int.MaxValue)
            throw Error($"{what} at byte {at} is {value}, out of the int32 range");
        return (int)value;
    }

    public float ReadFloat(string what)
    {
        Expect(WireType.Fixed32, what);
        return BinaryPrimitives.ReadSingleLittleEndian(Take(4, what));
    }

    public double ReadDouble(string what)
    {
        Expect(WireType.Fixed64, what);
        return BinaryPrimitives.ReadDoubleLittleEndian(Take(8, what));
    }

    /// <summary>A bytes field's payload, a slice of the buffer (no copy).</summary>
    public ReadOnlySpan<byte> ReadBytes(string what)
    {
        Expect(WireType.LengthDelimited, what);
        return ReadLengthDelimited();
    }

    /// <summary>A string field, which must be valid UTF-8.</summary>
    public string ReadString(string what)
    {
        int at = Position;
        ReadOnlySpan<byte> bytes = ReadBytes(what);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Error($"{what} at byte {at} is not valid UTF-8");
        }
    }

    /// <summary>A reader over the nested message in the current field, one level deeper.</summary>
    public ProtoReader ReadMessage(string what)
    {
        Expect(WireType.LengthDelimited, what);
        if (Depth + 1 > MaxDepth)
            throw Error($"{what} at byte {Position} is nested more than {MaxDepth} messages deep");
        ReadOnlySpan<byte> payload = ReadLengthDelimited();
        return new ProtoReader(payload, Position - payload.Length, _fileName, Depth + 1);
    }

    /// <summary>
    /// The bytes of a repeated varint field's values as they arrived: a packed payload, or the
    /// single varint of an unpacked element. Read them with <see cref="CountVarints"/> and <see cref="NextVarint"/>.
    /// </summary>
    public ReadOnlySpan<byte> ReadRepeatedVarints(string what)
    {
        if (WireType == WireType.LengthDelimited)
            return ReadLengthDelimited();
        Expect(WireType.Varint, what);
        int start = _pos;
        ReadRawVarint();
        return _buffer[start.._pos];
    }

    /// <summary>
    /// The bytes of a repeated fixed-size field (float, double, fixed64) as they arrived: a packed payload
    /// (whose length must be a multiple of <paramref name="size"/>) or one unpacked element.
    /// </summary>
    public ReadOnlySpan<byte> ReadRepeatedFixed(int size, string what)
    {
        if (WireType == WireType.LengthDelimited)
        {
            int at = Position;
            ReadOnlySpan<byte> payload = ReadLengthDelimited();
            if (payload.Length % size != 0)
                throw Error($"packed {what} at byte {at} is {payload.Length} bytes, not a multiple of {size}");
            return payload;
        }

        Expect(size == 4 ? WireType.Fixed32 : WireType.Fixed64, what);
        return Take(size, what);
    }

    /// <summary>
    /// How many varints a packed payload holds: the bytes without the continuation bit. Overlong
    /// varints are caught when they are decoded; a payload ending mid-varint is caught here.
    /// </summary>
    public readonly int CountVarints(ReadOnlySpan<byte> packed, string what)
    {
        if (packed.Length > 0 && packed[^1] >= 0x80)
            throw Error($"packed {what} ends inside a varint (truncated)");
        int count = 0;
        foreach (byte b in packed)
            count += b >> 7 ^ 1;
        return count;
    }

    /// <summary>Decodes the varint at <paramref name="pos"/> of a packed payload and moves past it.</summary>
    public readonly ulong NextVarint(ReadOnlySpan<byte> packed, ref int pos, string what)
    {
        if (!TryDecodeVarint(packed, ref pos, out ulong value, out bool overflow))
            throw Error(overflow
                ? $"packed {what} holds a varint longer than 10 bytes or above 2^64"
                : $"packed {what} ends inside a varint (truncated)");
        return value;
    }

    private ulong ReadRawVarint()
    {
        int at = Position;
        if (!TryDecodeVarint(_buffer, ref _pos, out ulong value, out bool overflow))
            throw Error(overflow
                ? $"varint at byte {at} is longer than 10 bytes or above 2^64"
                : $"truncated: the file ends inside a varint at byte {at}");
        return value;
    }

    /// <summary>Base-128 little-endian decode: at most 10 bytes, and the 10th may only carry the top bit.</summary>
    private static bool TryDecodeVarint(ReadOnlySpan<byte> bytes, ref int pos, out ulong value, out bool overflow)
    {
        value = 0;
        overflow = false;
        for (int i = 0, p = pos; i < 10; i++, p++)
        {
            if (p >= bytes.Length)
                return false;
            byte b = bytes[p];
            if (i == 9 && b > 1)
            {
                overflow = true;
                return false;
            }

            value |= (ulong)(b & 0x7F) << (7 * i);
            if (b < 0x80)
            {
                pos = p + 1;
                return true;
            }
        }

        overflow = true;
        return false;
    }

    private ReadOnlySpan<byte> ReadLengthDelimited()
    {
        int at = Position;
        ulong length = ReadRawVarint();
        int remaining = _buffer.Length - _pos;
        if (length > (ulong)remaining)
            throw Error($"truncated: field {Field} at byte {at} declares {length} bytes but only {remaining} remain");
        return Take((int)length, "length-delimited field");
    }

    private ReadOnlySpan<byte> Take(int count, string what)
    {
        if (count > _buffer.Length - _pos)
            throw Error($"truncated: {what} at byte {Position} needs {count} bytes but only {_buffer.Length - _pos} remain");
        ReadOnlySpan<byte> slice = _buffer.Slice(_pos, count);
        _pos += count;
        return slice;
    }

    private readonly void Expect(WireType expected, string what)
    {
        if (WireType != expected)
            throw Error($"{what} (field {Field}) has wire type {(int)WireType} ({WireType}), expected {(int)expected} ({expected})");
    }
}
