using System.Buffers.Binary;
using System.Text;
using CnnService.Engine.Format;

namespace CnnService.Engine.Tests.Format;

/// <summary>Builds safetensors files byte by byte, so tests control every field, valid or not.</summary>
internal static class SafeTensorsBytes
{
    public const string FileName = "weights.safetensors";

    /// <summary>8-byte little-endian <paramref name="declaredLength"/>, then <paramref name="rest"/>.</summary>
    public static byte[] Raw(ulong declaredLength, params byte[] rest)
    {
        var file = new byte[8 + rest.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, declaredLength);
        rest.CopyTo(file, 8);
        return file;
    }

    /// <summary>A file with the true header length, the header text, then <paramref name="data"/>.</summary>
    public static byte[] Build(string header, byte[] data)
    {
        byte[] h = Encoding.UTF8.GetBytes(header);
        return Raw((ulong)h.Length, [.. h, .. data]);
    }

    /// <summary>A file whose data buffer is <paramref name="dataBytes"/> zero bytes.</summary>
    public static byte[] Build(string header, int dataBytes) => Build(header, new byte[dataBytes]);

    public static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        return bytes;
    }

    public static byte[] Write(IEnumerable<NamedTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var stream = new MemoryStream();
        SafeTensors.Write(stream, tensors, metadata);
        return stream.ToArray();
    }

    /// <summary>The header text of a written file, padding included.</summary>
    public static string HeaderOf(byte[] file) =>
        Encoding.UTF8.GetString(file, 8, (int)BinaryPrimitives.ReadUInt64LittleEndian(file));

    public static WeightSet Parse(byte[] file) => SafeTensors.Parse(file, FileName);

    /// <summary>Parsing must fail with a message that starts with the file name and contains every keyword.</summary>
    public static ModelFormatException AssertRejected(byte[] file, params string[] keywords)
    {
        var e = Assert.Throws<ModelFormatException>(() => SafeTensors.Parse(file, FileName));
        Assert.StartsWith(FileName + ": ", e.Message);
        foreach (var k in keywords)
            Assert.Contains(k, e.Message);
        return e;
    }
}
