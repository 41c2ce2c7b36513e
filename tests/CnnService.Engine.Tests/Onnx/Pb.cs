using System.Buffers.Binary;
using System.Text;

namespace CnnService.Engine.Tests.Onnx;

/// <summary>
/// Protocol buffers bytes by hand, for files the writer would never produce: each helper returns
/// one encoded field; <see cref="Msg"/> concatenates fields into a message body.
/// </summary>
internal static class Pb
{
    public static byte[] Msg(params byte[][] fields)
    {
        var result = new byte[fields.Sum(f => f.Length)];
        int n = 0;
        foreach (byte[] f in fields)
        {
            f.CopyTo(result, n);
            n += f.Length;
        }

        return result;
    }

    public static byte[] RawVarint(ulong value)
    {
        var bytes = new List<byte>();
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
        return bytes.ToArray();
    }

    public static byte[] Tag(int field, int wireType) => RawVarint(((ulong)field << 3) | (uint)wireType);

    public static byte[] Varint(int field, long value) => Msg(Tag(field, 0), RawVarint((ulong)value));

    public static byte[] Len(int field, byte[] payload) => Msg(Tag(field, 2), RawVarint((ulong)payload.Length), payload);

    public static byte[] Str(int field, string value) => Len(field, Encoding.UTF8.GetBytes(value));

    public static byte[] Fixed32(int field, float value)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(b, value);
        return Msg(Tag(field, 5), b);
    }

    public static byte[] Fixed64(int field, ulong value)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        return Msg(Tag(field, 1), b);
    }

    public static byte[] PackedFloats(int field, params float[] values)
    {
        var b = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(i * 4), values[i]);
        return Len(field, b);
    }

    public static byte[] PackedVarints(int field, params long[] values) => Len(field, Msg(values.Select(v => RawVarint((ulong)v)).ToArray()));

    /// <summary>A FLOAT TensorProto body: dims (packed), data_type, name, then <paramref name="data"/> fields.</summary>
    public static byte[] FloatTensor(string name, long[] dims, params byte[][] data) =>
        Msg([PackedVarints(1, dims), Varint(2, 1), Str(8, name), .. data]);

    /// <summary>A ModelProto with opset 13 and a graph holding one Identity node and <paramref name="initializers"/> (TensorProto bodies).</summary>
    public static byte[] ModelWith(params byte[][] initializers) =>
        Model(Msg([Len(1, Node("Identity", "x", "y")), Str(2, "g"), .. initializers.Select(t => Len(5, t))]));

    public static byte[] Model(byte[] graph) => Msg(Varint(1, 8), Len(7, graph), Len(8, Msg(Varint(2, 13))));

    public static byte[] Node(string opType, string input, string output, params byte[][] attributes) =>
        Msg([Str(1, input), Str(2, output), Str(3, opType.ToLowerInvariant()), Str(4, opType), .. attributes.Select(a => Len(5, a))]);

    public static byte[] LittleEndian(params float[] values)
    {
        var b = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(i * 4), values[i]);
        return b;
    }
}
