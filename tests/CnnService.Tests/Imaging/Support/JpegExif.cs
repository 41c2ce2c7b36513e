using System.Buffers.Binary;

namespace CnnService.Tests.Imaging.Support;

/// <summary>
/// Adds an EXIF orientation to a JPEG, which Skia's encoder cannot: an APP1 segment right after the
/// SOI marker holding "Exif\0\0" and a big-endian TIFF header with one IFD of one entry, tag 0x0112
/// (Orientation), type SHORT, count 1.
/// </summary>
internal static class JpegExif
{
    public static byte[] WithOrientation(byte[] jpeg, int orientation)
    {
        if (jpeg.Length < 2 || jpeg[0] != 0xFF || jpeg[1] != 0xD8) throw new ArgumentException("Not a JPEG: no SOI marker.", nameof(jpeg));
        byte[] tiff = new byte[8 + 2 + 12 + 4];
        Span<byte> t = tiff;
        t[0] = (byte)'M';
        t[1] = (byte)'M';
        BinaryPrimitives.WriteUInt16BigEndian(t[2..], 42);
        BinaryPrimitives.WriteUInt32BigEndian(t[4..], 8); // IFD0 right after the header
        BinaryPrimitives.WriteUInt16BigEndian(t[8..], 1); // one entry
        BinaryPrimitives.WriteUInt16BigEndian(t[10..], 0x0112);
        BinaryPrimitives.WriteUInt16BigEndian(t[12..], 3); // SHORT
        BinaryPrimitives.WriteUInt32BigEndian(t[14..], 1);
        BinaryPrimitives.WriteUInt16BigEndian(t[18..], (ushort)orientation); // left-justified in the 4-byte value field
        // t[22..26]: next IFD offset 0

        byte[] exif = [.. "Exif\0\0"u8, .. tiff];
        var segment = new byte[4 + exif.Length];
        segment[0] = 0xFF;
        segment[1] = 0xE1;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), (ushort)(2 + exif.Length)); // the length counts itself
        exif.CopyTo(segment, 4);
        return [.. jpeg.AsSpan(0, 2), .. segment, .. jpeg.AsSpan(2)];
    }
}
