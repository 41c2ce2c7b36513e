using System.Buffers.Binary;
using System.IO.Compression;

namespace CnnService.Engine.Data;

/// <summary>
/// Reads IDX files, the format MNIST and Fashion-MNIST ship in: two zero bytes, an element-type
/// byte, a dimension-count byte, one big-endian int32 per dimension, then the values in row-major
/// order. A file may be gzip-compressed; that is told by its first two bytes (1f 8b), never by
/// its name. Only unsigned bytes (type 0x08) are read. Everything is checked against the header:
/// 1 to <see cref="MaxDimensions"/> dimensions, each positive, at most <see cref="MaxBytes"/>
/// values in all, and exactly as many data bytes as the dimensions say. Every problem is a
/// <see cref="DatasetFormatException"/> naming the file.
/// </summary>
public static class IdxFile
{
    public const byte UnsignedByte = 0x08;

    /// <summary>Images are 3-D (N, H, W), labels 1-D; a colour set would be 4-D.</summary>
    public const int MaxDimensions = 4;

    /// <summary>The most values one file may hold: what one array can (MNIST's training images are 47 MB).</summary>
    public const long MaxBytes = int.MaxValue - 64;

    /// <summary>A compressed file's buffer starts this small and grows as data actually arrives, so a lying header costs nothing.</summary>
    private const int FirstChunk = 1 << 20;

    private static ReadOnlySpan<byte> GzipMagic => [0x1f, 0x8b];

    /// <summary>Reads a whole file, plain or gzip.</summary>
    public static IdxArray Read(string path)
    {
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new DatasetFormatException($"{path}: cannot open: {Reason(e)}", e);
        }

        using (file)
        {
            return Read(file, path);
        }
    }

    /// <summary>Reads a whole IDX array, plain or gzip, from <paramref name="stream"/>; <paramref name="name"/> prefixes every message.</summary>
    public static IdxArray Read(Stream stream, string name)
    {
        try
        {
            var start = new byte[2];
            int got = stream.ReadAtLeast(start, 2, throwOnEndOfStream: false);
            Stream body = new PrefixedStream(start.AsSpan(0, got).ToArray(), stream);
            if (got == 2 && start.AsSpan().SequenceEqual(GzipMagic))
            {
                using var gzip = new GZipStream(body, CompressionMode.Decompress);
                return ReadPlain(gzip, name + " (gzip)", knownLength: -1);
            }

            return ReadPlain(body, name, stream.CanSeek ? stream.Length - stream.Position + got : -1);
        }
        catch (InvalidDataException e)
        {
            throw new DatasetFormatException($"{name}: corrupt gzip data: {e.Message}", e);
        }
        catch (IOException e)
        {
            throw new DatasetFormatException($"{name}: cannot read: {e.Message}", e);
        }
    }

    /// <summary>The header and data of an uncompressed IDX stream. <paramref name="knownLength"/> is its length when known (-1 when not).</summary>
    private static IdxArray ReadPlain(Stream stream, string name, long knownLength)
    {
        Span<byte> magic = stackalloc byte[4];
        int got = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        if (got == 0) throw Error(name, "not an IDX file: it is empty");
        if (got < 4) throw Error(name, $"not an IDX file: {got} bytes, shorter than the 4-byte magic");
        if (magic[0] != 0 || magic[1] != 0)
            throw Error(name, $"not an IDX file: the magic must start with two zero bytes, got {magic[0]:x2} {magic[1]:x2} {magic[2]:x2} {magic[3]:x2}");
        if (magic[2] != UnsignedByte) throw Error(name, DescribeType(magic[2]));
        int rank = magic[3];
        if (rank is < 1 or > MaxDimensions) throw Error(name, $"{rank} dimensions; an IDX dataset file has 1 to {MaxDimensions}");

        Span<byte> header = stackalloc byte[4 * MaxDimensions];
        header = header[..(4 * rank)];
        if (stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length)
            throw Error(name, $"truncated: the file ends inside the {rank} dimension sizes of the header");

        var dims = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++)
        {
            int d = BinaryPrimitives.ReadInt32BigEndian(header[(4 * i)..]);
            if (d <= 0) throw Error(name, $"dimension {i} is {d}; every dimension must be positive");
            dims[i] = d;
            count *= d;
            if (count > MaxBytes) throw Error(name, $"dimensions ({string.Join(", ", dims[..(i + 1)])}...) hold more than {MaxBytes:N0} values; too large to read");
        }

        long headerBytes = 4 + 4L * rank;
        if (knownLength >= 0 && knownLength != headerBytes + count)
        {
            string what = knownLength < headerBytes + count ? "truncated" : "trailing bytes";
            throw Error(name, $"{what}: dimensions ({string.Join(", ", dims)}) need {count:N0} data bytes, the file has {knownLength - headerBytes:N0}");
        }

        byte[] data = ReadData(stream, name, dims, count);
        return new IdxArray(dims, data);
    }

    /// <summary>Exactly <paramref name="count"/> bytes, then the end of the stream.</summary>
    private static byte[] ReadData(Stream stream, string name, int[] dims, long count)
    {
        var data = new byte[Math.Min(count, FirstChunk)];
        long filled = 0;
        while (true)
        {
            int read = stream.ReadAtLeast(data.AsSpan((int)filled), data.Length - (int)filled, throwOnEndOfStream: false);
            filled += read;
            if (filled < data.Length)
                throw Error(name, $"truncated: dimensions ({string.Join(", ", dims)}) need {count:N0} data bytes, the file has {filled:N0}");
            if (filled == count) break;
            Array.Resize(ref data, (int)Math.Min(count, 2L * data.Length));
        }

        Span<byte> probe = stackalloc byte[4096];
        long extra = 0;
        for (int read; (read = stream.Read(probe)) > 0;) extra += read;
        if (extra > 0)
            throw Error(name, $"trailing bytes: dimensions ({string.Join(", ", dims)}) need {count:N0} data bytes, the file has {count + extra:N0}");
        return data;
    }

    private static string DescribeType(byte type)
    {
        string? known = type switch
        {
            0x09 => "signed byte",
            0x0B => "int16",
            0x0C => "int32",
            0x0D => "float32",
            0x0E => "float64",
            _ => null,
        };
        return known is null
            ? $"not an IDX file: unknown element type 0x{type:x2}"
            : $"unsupported element type 0x{type:x2} ({known}); only unsigned bytes (0x08) are supported";
    }

    internal static string Reason(Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => "no such file",
        UnauthorizedAccessException => "permission denied",
        _ => e.Message,
    };

    private static DatasetFormatException Error(string name, string message) => new($"{name}: {message}");

    /// <summary>A stream that first replays the bytes already read to sniff the format, then reads on from the inner stream.</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream inner) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_position < prefix.Length && buffer.Length > 0)
            {
                int n = Math.Min(buffer.Length, prefix.Length - _position);
                prefix.AsSpan(_position, n).CopyTo(buffer);
                _position += n;
                return n;
            }

            return inner.Read(buffer);
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
