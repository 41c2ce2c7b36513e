using System.Buffers.Binary;
using CnnService.Engine.Format;
using CnnService.Engine.Onnx;

namespace CnnService.Engine.Tests.Onnx;

/// <summary>OnnxTensor.ToFloats and ToInt64s for each element type.</summary>
public class OnnxTensorConversionTests
{
    private static OnnxTensor Tensor(OnnxDataType type, params byte[] data) =>
        new("t", type, [data.Length / OnnxDataTypes.ElementSize(type)], data);

    private static byte[] Each<T>(int size, T[] values, SpanAction<T> write)
    {
        var b = new byte[values.Length * size];
        for (int i = 0; i < values.Length; i++) write(b.AsSpan(i * size), values[i]);
        return b;
    }

    private delegate void SpanAction<T>(Span<byte> span, T value);

    [Fact]
    public void Double_RoundsToFloat() =>
        Assert.Equal([0.1f, -1e30f], Tensor(OnnxDataType.Double, Each(8, [0.1, -1e30], BinaryPrimitives.WriteDoubleLittleEndian)).ToFloats());

    [Fact]
    public void Float16_Widens() =>
        Assert.Equal([1f, -2f, float.PositiveInfinity], Tensor(OnnxDataType.Float16, Each(2, [(Half)1, (Half)(-2), Half.PositiveInfinity], BinaryPrimitives.WriteHalfLittleEndian)).ToFloats());

    [Fact]
    public void BFloat16_IsTheTopHalfOfAFloat() =>
        Assert.Equal([1f, -2.5f], Tensor(OnnxDataType.BFloat16, Each(2, [(ushort)0x3F80, (ushort)0xC020], BinaryPrimitives.WriteUInt16LittleEndian)).ToFloats());

    [Fact]
    public void Int64_ToFloats() =>
        Assert.Equal([-3f, 1e12f], Tensor(OnnxDataType.Int64, Each(8, [-3L, 1_000_000_000_000], BinaryPrimitives.WriteInt64LittleEndian)).ToFloats());

    [Fact]
    public void Int32_ToFloatsAndInt64s()
    {
        OnnxTensor t = Tensor(OnnxDataType.Int32, Each(4, [int.MinValue, 5], BinaryPrimitives.WriteInt32LittleEndian));

        Assert.Equal([(float)int.MinValue, 5f], t.ToFloats());
        Assert.Equal([(long)int.MinValue, 5], t.ToInt64s());
    }

    [Fact]
    public void Int8AndUInt8_KeepTheirSign()
    {
        Assert.Equal([-1f, 127f], Tensor(OnnxDataType.Int8, 0xFF, 0x7F).ToFloats());
        Assert.Equal([255f, 127f], Tensor(OnnxDataType.UInt8, 0xFF, 0x7F).ToFloats());
    }

    [Fact]
    public void Bool_IsZeroOrOne() => Assert.Equal([1L, 0, 1], Tensor(OnnxDataType.Bool, 2, 0, 1).ToInt64s());

    [Fact]
    public void UInt64AboveInt64_IsRejected()
    {
        var e = Assert.Throws<ModelFormatException>(() => Tensor(OnnxDataType.UInt64, Each(8, [ulong.MaxValue], BinaryPrimitives.WriteUInt64LittleEndian)).ToInt64s());

        Assert.Contains("does not fit an int64", e.Message);
    }

    [Fact]
    public void FloatToInt64s_IsRejected()
    {
        var e = Assert.Throws<ModelFormatException>(() => OnnxTensor.FromFloats("w", [1], [1f]).ToInt64s());

        Assert.Contains("tensor 'w' is FLOAT, which cannot be read as int64s", e.Message);
    }

    [Fact]
    public void ComplexToFloats_IsRejected() =>
        Assert.Throws<ModelFormatException>(() => new OnnxTensor("c", OnnxDataType.Complex64, [1], new byte[8]).ToFloats());

    [Fact]
    public void ConstructorRefusesDataOfTheWrongSize() =>
        Assert.Throws<ArgumentException>(() => new OnnxTensor("w", OnnxDataType.Float, [3], new byte[8]));
}
