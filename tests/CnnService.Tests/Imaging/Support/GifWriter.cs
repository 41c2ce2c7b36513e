namespace CnnService.Tests.Imaging.Support;

/// <summary>
/// Writes 8-bit grayscale GIFs, which Skia cannot encode. The LZW stream sends every pixel as a
/// literal 9-bit code and a clear code every 250 pixels, so the code table never grows past
/// 9 bits: valid for every decoder, and far simpler than real compression (files are larger).
/// </summary>
internal static class GifWriter
{
    private const int ClearCode = 256, EndCode = 257, CodeBits = 9, LiteralsPerClear = 250;

    /// <summary>A GIF89a of <paramref name="gray"/> (row-major, one byte a pixel) with a 256-level grey palette.</summary>
    public static byte[] Write(byte[] gray, int width, int height) => Animation([gray], width, height);

    /// <summary>An animated GIF89a: each of <paramref name="frames"/> covers the whole screen.</summary>
    public static byte[] Animation(byte[][] frames, int width, int height)
    {
        var o = new MemoryStream();
        o.Write("GIF89a"u8);
        WriteScreen(o, width, height, globalTableBits: 7);
        for (int i = 0; i < 256; i++) o.Write([(byte)i, (byte)i, (byte)i]);
        foreach (byte[] frame in frames)
        {
            // Graphic control extension: 0.1 s per frame, no transparency, frames replace each other.
            o.Write([0x21, 0xF9, 4, 0x04, 10, 0, 0, 0]);
            WriteImageDescriptor(o, width, height);
            WriteImageData(o, frame);
        }

        o.WriteByte(0x3B);
        return o.ToArray();
    }

    private static void WriteImageData(Stream o, byte[] gray)
    {
        o.WriteByte(8); // minimum LZW code size: 8-bit pixels

        var packed = new List<byte>();
        int bits = 0, pending = 0;
        void Emit(int code)
        {
            pending |= code << bits;
            for (bits += CodeBits; bits >= 8; bits -= 8, pending >>= 8) packed.Add((byte)pending);
        }

        Emit(ClearCode);
        for (int i = 0; i < gray.Length; i++)
        {
            if (i > 0 && i % LiteralsPerClear == 0) Emit(ClearCode);
            Emit(gray[i]);
        }

        Emit(EndCode);
        if (bits > 0) packed.Add((byte)pending);
        WriteSubBlocks(o, packed);
    }

    /// <summary>
    /// A "GIF bomb": a valid GIF whose logical screen is <paramref name="width"/> x <paramref name="height"/>
    /// but whose only frame is one pixel. A few dozen bytes that a careless decoder expands to width x height x 4.
    /// </summary>
    public static byte[] Bomb(int width, int height)
    {
        var o = new MemoryStream();
        o.Write("GIF89a"u8);
        WriteScreen(o, width, height, globalTableBits: 0);
        o.Write([0, 0, 0, 255, 255, 255]);
        WriteImageDescriptor(o, 1, 1);
        o.Write([2, 2, 0x4C, 0x01, 0]); // code size 2: clear, pixel 0, end; one sub-block; terminator
        o.WriteByte(0x3B);
        return o.ToArray();
    }

    private static void WriteScreen(Stream o, int width, int height, int globalTableBits)
    {
        WriteUInt16(o, width);
        WriteUInt16(o, height);
        o.WriteByte((byte)(0x80 | 0x70 | globalTableBits)); // global colour table of 2^(bits+1) entries, 8-bit colour resolution
        o.WriteByte(0); // background colour index
        o.WriteByte(0); // no aspect ratio
    }

    private static void WriteImageDescriptor(Stream o, int width, int height)
    {
        o.WriteByte(0x2C);
        WriteUInt16(o, 0);
        WriteUInt16(o, 0);
        WriteUInt16(o, width);
        WriteUInt16(o, height);
        o.WriteByte(0); // no local table, not interlaced
    }

    private static void WriteSubBlocks(Stream o, List<byte> data)
    {
        for (int at = 0; at < data.Count; at += 255)
        {
            int n = Math.Min(255, data.Count - at);
            o.WriteByte((byte)n);
            for (int i = 0; i < n; i++) o.WriteByte(data[at + i]);
        }

        o.WriteByte(0);
    }

    private static void WriteUInt16(Stream o, int value)
    {
        o.WriteByte((byte)value);
        o.WriteByte((byte)(value >> 8));
    }
}
