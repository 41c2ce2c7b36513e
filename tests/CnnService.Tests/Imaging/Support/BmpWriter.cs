using System.Buffers.Binary;

namespace CnnService.Tests.Imaging.Support;

/// <summary>Writes 8-bit grayscale BMPs (a 256-entry grey palette, rows bottom-up, padded to 4 bytes), which Skia cannot encode.</summary>
internal static class BmpWriter
{
    public static byte[] Write(byte[] gray, int width, int height)
    {
        const int headers = 14 + 40, palette = 256 * 4;
        int stride = (width + 3) & ~3, size = headers + palette + stride * height;
        var bmp = new byte[size];
        Span<byte> b = bmp;
        b[0] = (byte)'B';
        b[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(b[2..], size);
        BinaryPrimitives.WriteInt32LittleEndian(b[10..], headers + palette);
        BinaryPrimitives.WriteInt32LittleEndian(b[14..], 40);
        BinaryPrimitives.WriteInt32LittleEndian(b[18..], width);
        BinaryPrimitives.WriteInt32LittleEndian(b[22..], height); // positive: bottom-up
        BinaryPrimitives.WriteInt16LittleEndian(b[26..], 1);
        BinaryPrimitives.WriteInt16LittleEndian(b[28..], 8);
        BinaryPrimitives.WriteInt32LittleEndian(b[34..], stride * height);
        BinaryPrimitives.WriteInt32LittleEndian(b[38..], 2835); // 72 dpi
        BinaryPrimitives.WriteInt32LittleEndian(b[42..], 2835);
        BinaryPrimitives.WriteInt32LittleEndian(b[46..], 256);
        for (int i = 0; i < 256; i++) b.Slice(headers + 4 * i, 3).Fill((byte)i);
        for (int y = 0; y < height; y++)
            gray.AsSpan(y * width, width).CopyTo(b[(headers + palette + (height - 1 - y) * stride)..]);
        return bmp;
    }
}
