using CnnService.Engine.Format;
using CnnService.Engine.Onnx;
using static CnnService.Engine.Tests.Onnx.Pb;

namespace CnnService.Engine.Tests.Onnx;

/// <summary>The wire-format reader on its own: varints, skipping, nesting.</summary>
public class ProtoReaderTests
{
    private static ulong ReadOneVarint(byte[] field)
    {
        var r = new ProtoReader(field, "t");
        Assert.True(r.NextField());
        return (ulong)r.ReadInt64("v");
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(1UL)]
    [InlineData(127UL)]
    [InlineData(128UL)]
    [InlineData(300UL)]
    [InlineData(1UL << 63)]
    [InlineData(ulong.MaxValue)]
    public void Varint_DecodesWhatWasEncoded(ulong value) => Assert.Equal(value, ReadOneVarint(Msg(Tag(1, 0), RawVarint(value))));

    [Fact]
    public void NegativeInt32_IsTenBytesSignExtended()
    {
        var r = new ProtoReader(Varint(1, -5), "t");
        r.NextField();

        Assert.Equal(-5, r.ReadInt32("v"));
    }

    [Fact]
    public void Int32OutOfRange_IsRejected()
    {
        var r = new ProtoReader(Varint(1, 1L << 40), "t");
        r.NextField();

        try
        {
            r.ReadInt32("v");
            Assert.Fail("no exception");
        }
        catch (ModelFormatException e)
        {
            Assert.Contains("out of the int32 range", e.Message);
        }
    }

    [Fact]
    public void UnknownFieldsOfEveryWireType_AreSkipped()
    {
        byte[] bytes = Msg(Varint(100, 7), Fixed64(101, 9), Str(102, "skip me"), Fixed32(103, 1.5f), Varint(1, 42));
        var r = new ProtoReader(bytes, "t");

        while (r.NextField() && r.Field != 1)
            r.Skip();

        Assert.Equal(42, r.ReadInt64("v"));
    }

    [Fact]
    public void TruncatedFixed64_IsRejected()
    {
        byte[] bytes = Fixed64(101, 9)[..5];
        var r = new ProtoReader(bytes, "t");
        r.NextField();

        try
        {
            r.Skip();
            Assert.Fail("no exception");
        }
        catch (ModelFormatException e)
        {
            Assert.Contains("truncated", e.Message);
        }
    }

    [Fact]
    public void NestingUpToTheLimit_IsRead()
    {
        Assert.Equal(ProtoReader.MaxDepth, Descend(new ProtoReader(Nested(ProtoReader.MaxDepth), "t")));
    }

    [Fact]
    public void NestingPastTheLimit_IsRejected()
    {
        try
        {
            Descend(new ProtoReader(Nested(ProtoReader.MaxDepth + 1), "t"));
            Assert.Fail("no exception");
        }
        catch (ModelFormatException e)
        {
            Assert.Contains($"nested more than {ProtoReader.MaxDepth} messages deep", e.Message);
        }
    }

    [Fact]
    public void Copy_IsABookmarkThatReadsAgain()
    {
        var r = new ProtoReader(Msg(Varint(1, 5), Varint(2, 6)), "t");
        ProtoReader mark = r;
        r.NextField();
        r.Skip();
        r.NextField();

        mark.NextField();
        Assert.Equal(1, mark.Field);
        Assert.Equal(6, r.ReadInt64("v"));
    }

    /// <summary>Messages nested <paramref name="levels"/> deep in field 1, with a varint at the bottom.</summary>
    private static byte[] Nested(int levels)
    {
        byte[] m = Varint(2, 1);
        for (int i = 0; i < levels; i++)
            m = Len(1, m);
        return m;
    }

    private static int Descend(ProtoReader r)
    {
        while (r.NextField())
        {
            if (r.Field == 1)
                return Descend(r.ReadMessage("nested"));
            r.Skip();
        }

        return r.Depth;
    }
}
