using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace CnnService.Engine.Onnx;

/// <summary>
/// Repeated scalar fields, which may arrive packed, unpacked, or as several packed runs. Each is read
/// in two passes over the message: count (every element checked against the bytes present), then
/// allocate the array once and fill it.
/// </summary>
internal static class Repeated
{
    public static long[] Int64s(ProtoReader message, int field, string what)
    {
        ProtoReader r = message;
        int count = 0;
        while (r.NextField())
        {
            if (r.Field == field) count += r.CountVarints(r.ReadRepeatedVarints(what), what);
            else r.Skip();
        }

        var result = new long[count];
        int n = 0;
        for (r = message; r.NextField();)
        {
            if (r.Field != field)
            {
                r.Skip();
                continue;
            }

            ReadOnlySpan<byte> packed = r.ReadRepeatedVarints(what);
            for (int pos = 0; pos < packed.Length;)
                result[n++] = (long)r.NextVarint(packed, ref pos, what);
        }

        return result;
    }

    public static float[] Floats(ProtoReader message, int field, string what)
    {
        ProtoReader r = message;
        int count = 0;
        while (r.NextField())
        {
            if (r.Field == field) count += r.ReadRepeatedFixed(4, what).Length / 4;
            else r.Skip();
        }

        var result = new float[count];
        int n = 0;
        for (r = message; r.NextField();)
        {
            if (r.Field != field)
            {
                r.Skip();
                continue;
            }

            ReadOnlySpan<byte> run = r.ReadRepeatedFixed(4, what);
            CopyFloats(run, result.AsSpan(n));
            n += run.Length / 4;
        }

        return result;
    }

    public static void CopyFloats(ReadOnlySpan<byte> littleEndian, Span<float> destination)
    {
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.Cast<byte, float>(littleEndian).CopyTo(destination);
            return;
        }

        for (int i = 0; i < littleEndian.Length / 4; i++)
            destination[i] = BinaryPrimitives.ReadSingleLittleEndian(littleEndian[(i * 4)..]);
    }
}
