using System.Buffers.Binary;
using CnnService.Inference;

namespace CnnService.Tests.Inference;

/// <summary>The protocol's binary tensor form read as floats: little-endian, every numeric datatype; BYTES length-prefixed.</summary>
public sealed class RawTensorContentTests
{
    private static float[] Read(TensorDatatype datatype, byte[] raw, int count)
    {
        var content = new RawTensorContent(raw);
        Assert.Equal(count, content.CountElements("input", datatype));
        var values = new float[count];
        content.ReadNumbers("input", datatype, values);
        return values;
    }

    /// <summary>Each value written little-endian in the datatype's own width.</summary>
    private static byte[] Encode(TensorDatatype datatype, params double[] values)
    {
        int size = datatype.ElementSize();
        var raw = new byte[values.Length * size];
        for (int i = 0; i < values.Length; i++)
        {
            Span<byte> b = raw.AsSpan(i * size, size);
            double v = values[i];
            switch (datatype)
            {
                case TensorDatatype.Bool or TensorDatatype.UInt8: b[0] = (byte)v; break;
                case TensorDatatype.Int8: b[0] = (byte)(sbyte)v; break;
                case TensorDatatype.UInt16: BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)v); break;
                case TensorDatatype.Int16: BinaryPrimitives.WriteInt16LittleEndian(b, (short)v); break;
                case TensorDatatype.UInt32: BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)v); break;
                case TensorDatatype.Int32: BinaryPrimitives.WriteInt32LittleEndian(b, (int)v); break;
                case TensorDatatype.UInt64: BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)v); break;
                case TensorDatatype.Int64: BinaryPrimitives.WriteInt64LittleEndian(b, (long)v); break;
                case TensorDatatype.FP16: BinaryPrimitives.WriteHalfLittleEndian(b, (Half)v); break;
                case TensorDatatype.FP32: BinaryPrimitives.WriteSingleLittleEndian(b, (float)v); break;
                case TensorDatatype.FP64: BinaryPrimitives.WriteDoubleLittleEndian(b, v); break;
            }
        }

        return raw;
    }

    [Theory]
    [InlineData(TensorDatatype.UInt8, new double[] { 0, 1, 128, 255 })]
    [InlineData(TensorDatatype.Int8, new double[] { -128, -1, 0, 127 })]
    [InlineData(TensorDatatype.UInt16, new double[] { 0, 255, 256, 65535 })]
    [InlineData(TensorDatatype.Int16, new double[] { -32768, -1, 255, 32767 })]
    [InlineData(TensorDatatype.UInt32, new double[] { 0, 255, 65536, 16777216 })]
    [InlineData(TensorDatatype.Int32, new double[] { -16777216, -1, 255, 16777216 })]
    [InlineData(TensorDatatype.UInt64, new double[] { 0, 1, 255, 1099511627776 })]
    [InlineData(TensorDatatype.Int64, new double[] { -1099511627776, -1, 0, 255 })]
    [InlineData(TensorDatatype.FP16, new double[] { -2.5, 0, 0.125, 65504 })]
    [InlineData(TensorDatatype.FP32, new double[] { -1.5, 0, 0.1f, 3.4e38f })]
    [InlineData(TensorDatatype.FP64, new double[] { -1.5, 0, 0.1f, 1e30 })]
    [InlineData(TensorDatatype.Bool, new double[] { 0, 1, 1, 0 })]
    public void Each_numeric_datatype_reads_its_little_endian_values(TensorDatatype datatype, double[] values)
    {
        float[] read = Read(datatype, Encode(datatype, values), values.Length);

        Assert.Equal(values.Select(v => (float)v), read);
    }

    [Fact]
    public void Fp32_read_from_an_odd_offset_keeps_its_values()
    {
        byte[] raw = [0, .. Encode(TensorDatatype.FP32, 1.25, -7)];
        var values = new float[2];

        new RawTensorContent(raw.AsMemory(1)).ReadNumbers("input", TensorDatatype.FP32, values);

        Assert.Equal([1.25f, -7f], values);
    }

    [Fact]
    public void Bytes_that_are_not_a_whole_number_of_elements_are_refused_naming_the_input()
    {
        var e = Assert.Throws<InferenceException>(() => new RawTensorContent(new byte[10]).CountElements("pixels", TensorDatatype.FP32));

        Assert.Equal(InferenceErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("Input \"pixels\": 10 bytes", e.Message);
    }

    [Fact]
    public void Bytes_elements_are_each_a_little_endian_length_then_the_bytes()
    {
        byte[] raw = [3, 0, 0, 0, (byte)'a', (byte)'b', (byte)'c', 0, 0, 0, 0, 1, 0, 0, 0, 9];
        var content = new RawTensorContent(raw);
        var seen = new List<string>();

        content.ReadBytes("input", (i, element) => seen.Add($"{i}:{Convert.ToHexString(element)}"));

        Assert.Equal(3, content.CountElements("input", TensorDatatype.Bytes));
        Assert.Equal(["0:616263", "1:", "2:09"], seen);
    }

    [Theory]
    [InlineData(new byte[] { 1, 0 }, "cut short")]
    [InlineData(new byte[] { 5, 0, 0, 0, 1, 2 }, "declares 5 bytes; only 2 follow")]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 1 }, "declares 4294967295 bytes; only 1 follow")]
    public void A_bytes_length_past_the_end_is_refused(byte[] raw, string expected)
    {
        var e = Assert.Throws<InferenceException>(() => new RawTensorContent(raw).CountElements("input", TensorDatatype.Bytes));

        Assert.Contains(expected, e.Message);
    }
}
