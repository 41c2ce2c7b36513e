using System.Buffers.Binary;
using System.IO.Compression;

namespace CnnService.Engine.Data;

/// <summary>
/// Writes unsigned-byte IDX files, plain or gzip-compressed: the reverse of <see cref="IdxFile"/>,
/// for test fixtures and for files cut from a larger dataset.
/// </summary>
public static class IdxWriter
{
    public static void Write(string path, IdxArray array, bool gzip)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        Write(file, array, gzip);
    }

    public static void Write(Stream stream, IdxArray array, bool gzip)
    {
        Validate(array);
        if (!gzip)
        {
            WritePlain(stream, array);
            return;
        }

        using var compressed = new GZipStream(stream, CompressionLevel.SmallestSize, leaveOpen: true);
        WritePlain(compressed, array);
    }

    /// <summary>The bytes of an IDX file, as <see cref="Write(Stream, IdxArray, bool)"/> would write them.</summary>
    public static byte[] ToBytes(IdxArray array, bool gzip = false)
    {
        using var memory = new MemoryStream();
        Write(memory, array, gzip);
        return memory.ToArray();
    }

    private static void WritePlain(Stream stream, IdxArray array)
    {
        Span<byte> header = stackalloc byte[4 + 4 * IdxFile.MaxDimensions];
        header[..4].Clear();
        header[2] = IdxFile.UnsignedByte;
        header[3] = (byte)array.Dims.Length;
        for (int i = 0; i < array.Dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(header[(4 + 4 * i)..], array.Dims[i]);
        stream.Write(header[..(4 + 4 * array.Dims.Length)]);
        stream.Write(array.Data);
    }

    private static void Validate(IdxArray array)
    {
        if (array.Dims.Length is < 1 or > IdxFile.MaxDimensions)
            throw new ArgumentException($"An IDX array has 1 to {IdxFile.MaxDimensions} dimensions, not {array.Dims.Length}.", nameof(array));
        long count = 1;
        foreach (int d in array.Dims)
        {
            if (d <= 0) throw new ArgumentException($"Dimensions {array} must all be positive.", nameof(array));
            count *= d;
        }

        if (count != array.Data.Length)
            throw new ArgumentException($"Dimensions {array} hold {count} values; the data has {array.Data.Length}.", nameof(array));
    }
}
