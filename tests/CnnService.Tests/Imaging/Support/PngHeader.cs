using System.Buffers.Binary;

namespace CnnService.Tests.Imaging.Support;

/// <summary>Rewrites the size in a PNG's IHDR chunk (and its CRC), to make files whose header lies about their size.</summary>
internal static class PngHeader
{
    /// <summary>IHDR is the first chunk: length at 8, type at 12, width at 16, height at 20, CRC over type and data at 29.</summary>
    public static byte[] WithSize(byte[] png, int width, int height)
    {
        byte[] copy = (byte[])png.Clone();
        BinaryPrimitives.WriteInt32BigEndian(copy.AsSpan(16), width);
        BinaryPrimitives.WriteInt32BigEndian(copy.AsSpan(20), height);
        BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(29), Crc32(copy.AsSpan(12, 17)));
        return copy;
    }

    /// <summary>CRC-32 (ISO-HDLC, as PNG uses), bit by bit: only headers are checksummed here.</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }

        return ~crc;
    }
}
