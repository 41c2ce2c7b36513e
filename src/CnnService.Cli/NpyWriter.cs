using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace CnnService.Cli;

/// <summary>
/// Writes NumPy .npy files as <c>np.save</c> does: version 1.0 (2.0 if the header needs it), the
/// dict padded with spaces so the data start on a 64-byte boundary, little-endian float32 in C
/// order. <see cref="Header"/> builds headers with any dtype, order or version, for tests.
/// </summary>
internal static class NpyWriter
{
    private const int Alignment = 64;

    public static void Write(string path, ReadOnlySpan<float> data, params int[] shape)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        Write(stream, data, shape);
    }

    public static void Write(Stream stream, ReadOnlySpan<float> data, params int[] shape)
    {
        long count = shape.Aggregate(1L, (a, d) => a * d);
        if (shape.Any(d => d < 0) || count != data.Length)
            throw new ArgumentException($"Shape {NpyReader.FormatShape(shape.Select(d => (long)d).ToArray())} holds {count} values; data has {data.Length}.", nameof(shape));
        stream.Write(Header(shape.Select(d => (long)d).ToArray()));
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(data));
        }
        else
        {
            var bytes = new byte[sizeof(float)];
            foreach (float v in data)
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes, v);
                stream.Write(bytes);
            }
        }
    }

    /// <summary>The magic, version, length and padded dict: everything before the data.</summary>
    public static byte[] Header(long[] shape, string descr = NpyReader.Float32, bool fortranOrder = false, int majorVersion = 0)
    {
        string tuple = shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";
        string dict = $"{{'descr': '{descr}', 'fortran_order': {(fortranOrder ? "True" : "False")}, 'shape': {tuple}, }}";
        return Header(dict, majorVersion);
    }

    /// <summary>A header around an arbitrary dict text (tests); version 0 picks 1.0 unless the dict is too long for it.</summary>
    public static byte[] Header(string dict, int majorVersion = 0)
    {
        Encoding encoding = majorVersion == 3 ? Encoding.UTF8 : Encoding.Latin1;
        int dictBytes = encoding.GetByteCount(dict) + 1; // + '\n'
        if (majorVersion == 0) majorVersion = 10 + dictBytes + Alignment <= ushort.MaxValue ? 1 : 2;
        int preamble = majorVersion == 1 ? 10 : 12;
        int padding = (Alignment - (preamble + dictBytes) % Alignment) % Alignment;
        int headerLength = dictBytes + padding;

        var bytes = new byte[preamble + headerLength];
        NpyReader.Magic.CopyTo(bytes);
        bytes[6] = (byte)majorVersion;
        bytes[7] = 0;
        if (majorVersion == 1) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)headerLength);
        else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)headerLength);
        int written = encoding.GetBytes(dict, bytes.AsSpan(preamble));
        bytes.AsSpan(preamble + written, padding).Fill((byte)' ');
        bytes[^1] = (byte)'\n';
        return bytes;
    }
}
