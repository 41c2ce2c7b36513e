using System.Text;
using CnnService.Engine.Format;
using static CnnService.Engine.Tests.Format.SafeTensorsBytes;

namespace CnnService.Engine.Tests.Format;

/// <summary>Broken and hostile files: each must be a ModelFormatException naming the file, nothing else.</summary>
public class SafeTensorsHostileFileTests
{
    private static string Entry(string name, string dtype, string shape, long begin, long end) =>
        $$$"""{"{{{name}}}":{"dtype":"{{{dtype}}}","shape":{{{shape}}},"data_offsets":[{{{begin}}},{{{end}}}]}}""";

    [Fact]
    public void EmptyFile_IsRejected() => AssertRejected([], "0 bytes", "too short");

    [Fact]
    public void SevenBytes_IsRejected() => AssertRejected([8, 0, 0, 0, 0, 0, 0], "7 bytes", "too short");

    [Fact]
    public void HeaderLengthBeyondFile_IsRejected() => AssertRejected(Raw(100, Encoding.ASCII.GetBytes("{}")), "header length 100", "end of the file");

    [Fact]
    public void HeaderLengthTwoToThe63_IsRejected() => AssertRejected(Raw(1UL << 63, Encoding.ASCII.GetBytes("{}")), "9223372036854775808");

    [Fact]
    public void HeaderLengthMaxULong_IsRejected() => AssertRejected(Raw(ulong.MaxValue), "header length");

    [Fact]
    public void HeaderLengthOver100MB_IsRejected() => AssertRejected(Raw(100_000_001, Encoding.ASCII.GetBytes("{}")), "limit");

    [Fact]
    public void EmptyHeader_IsRejected() => AssertRejected(Raw(0), "not valid JSON");

    [Fact]
    public void HeaderNotJson_IsRejected() => AssertRejected(Build("not json at all", 0), "not valid JSON");

    [Fact]
    public void HeaderInvalidUtf8_IsRejected() => AssertRejected(Raw(4, 0x7B, 0x22, 0xFF, 0x7D), "UTF-8");

    [Fact]
    public void HeaderJsonArray_IsRejected() => AssertRejected(Build("[1, 2, 3]", 0), "JSON object");

    [Fact]
    public void HeaderDeeplyNested_IsRejectedNotStackOverflow() =>
        AssertRejected(Build($$"""{"x":{{new string('[', 10_000)}}{{new string(']', 10_000)}}}""", 0), "not valid JSON");

    [Fact]
    public void EntryNotObject_IsRejected() => AssertRejected(Build("""{"w":[1,2]}""", 0), "tensor 'w'", "object");

    [Fact]
    public void EntryWithoutDtype_IsRejected() => AssertRejected(Build("""{"w":{"shape":[1],"data_offsets":[0,4]}}""", 4), "tensor 'w'", "\"dtype\"");

    [Fact]
    public void EntryWithoutShape_IsRejected() => AssertRejected(Build("""{"w":{"dtype":"F32","data_offsets":[0,4]}}""", 4), "tensor 'w'", "\"shape\"");

    [Fact]
    public void EntryWithoutOffsets_IsRejected() => AssertRejected(Build("""{"w":{"dtype":"F32","shape":[1]}}""", 4), "tensor 'w'", "\"data_offsets\"");

    [Fact]
    public void EntryWithDuplicateKey_IsRejected() =>
        AssertRejected(Build("""{"w":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}""", 4), "tensor 'w'", "more than once");

    [Fact]
    public void UnknownDtype_IsRejected() => AssertRejected(Build(Entry("w", "F24", "[1]", 0, 3), 3), "tensor 'w'", "unknown dtype", "F24");

    [Fact]
    public void DtypeNotString_IsRejected() => AssertRejected(Build("""{"w":{"dtype":32,"shape":[1],"data_offsets":[0,4]}}""", 4), "tensor 'w'", "dtype");

    [Fact]
    public void ShapeNotArray_IsRejected() => AssertRejected(Build(Entry("w", "F32", "4", 0, 16), 16), "tensor 'w'", "\"shape\"");

    [Fact]
    public void ShapeWithFraction_IsRejected() => AssertRejected(Build(Entry("w", "F32", "[2.5]", 0, 8), 8), "tensor 'w'", "integers");

    [Fact]
    public void ShapeWithString_IsRejected() => AssertRejected(Build(Entry("w", "F32", "[\"2\"]", 0, 8), 8), "tensor 'w'", "integers");

    [Fact]
    public void NegativeDimension_IsRejected() => AssertRejected(Build(Entry("w", "F32", "[-1, 4]", 0, 16), 16), "tensor 'w'", "negative");

    [Fact]
    public void DimensionBeyondInt_IsRejected() => AssertRejected(Build(Entry("w", "U8", "[4294967296]", 0, 0), 0), "tensor 'w'", "too large");

    [Fact]
    public void DimensionBeyondLong_IsRejected() => AssertRejected(Build(Entry("w", "U8", "[1e30]", 0, 0), 0), "tensor 'w'", "integers");

    [Fact]
    public void ElementCountOverflow_IsRejected() =>
        AssertRejected(Build(Entry("w", "F32", "[2147483647, 2147483647, 4]", 0, 16), 16), "tensor 'w'", "elements");

    [Fact]
    public void ElementCountOverflowingLong_IsRejected() =>
        AssertRejected(Build(Entry("w", "F64", "[2147483647, 2147483647, 2147483647, 2147483647]", 0, 8), 8), "tensor 'w'", "elements");

    [Fact]
    public void OffsetsNotTwoIntegers_IsRejected() => AssertRejected(Build("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}}""", 4), "tensor 'w'", "two non-negative integers");

    [Fact]
    public void NegativeOffset_IsRejected() => AssertRejected(Build(Entry("w", "F32", "[1]", -4, 0), 4), "tensor 'w'", "\"data_offsets\"");

    [Fact]
    public void OffsetsReversed_IsRejected() => AssertRejected(Build(Entry("w", "F32", "[1]", 4, 0), 4), "tensor 'w'", "ends before it begins");

    [Fact]
    public void OffsetsOutsideTheBuffer_IsRejected() =>
        AssertRejected(Build("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[18446744073709551611,18446744073709551615]}}""", 4), "tensor 'w'", "beyond the end");

    [Fact]
    public void TruncatedData_IsRejected() => AssertRejected(Build(Entry("w", "F32", "[4]", 0, 16), 10), "tensor 'w'", "beyond the end of the data buffer (10 bytes)");

    [Fact]
    public void ByteLengthNotMatchingShape_IsRejected() => AssertRejected(Build(Entry("w", "F32", "[3]", 0, 16), 16), "tensor 'w'", "16 bytes", "needs 12");

    [Fact]
    public void SubByteDtype_NotWholeBytes_IsRejected() => AssertRejected(Build(Entry("w", "F4", "[3]", 0, 2), 2), "tensor 'w'", "whole number of bytes");

    [Fact]
    public void SubByteDtype_WholeBytes_IsAccepted() => Assert.Equal([4], Parse(Build(Entry("w", "F4", "[4]", 0, 2), 2)).ShapeOf("w"));

    [Fact]
    public void OverlappingTensors_AreRejected() =>
        AssertRejected(Build("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12), "'a'", "'b'", "overlap");

    [Fact]
    public void SameRangeTwice_IsRejectedAsOverlap() =>
        AssertRejected(Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 4), "overlap");

    [Fact]
    public void HoleBetweenTensors_IsRejected() =>
        AssertRejected(Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", 12), "4..8", "not covered");

    [Fact]
    public void HoleAtTheStart_IsRejected() => AssertRejected(Build(Entry("a", "F32", "[1]", 4, 8), 8), "0..4", "not covered");

    [Fact]
    public void TrailingBytesAfterLastTensor_AreRejected() => AssertRejected(Build(Entry("a", "F32", "[1]", 0, 4), 6), "last 2 bytes", "not covered");

    [Fact]
    public void DataWithoutTensors_IsRejected() => AssertRejected(Build("{}", 4), "not covered");

    [Fact]
    public void DuplicateTensorNames_AreRejected() =>
        AssertRejected(Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8), "'a'", "more than once");

    [Fact]
    public void DuplicateMetadata_IsRejected() => AssertRejected(Build("""{"__metadata__":{},"__metadata__":{}}""", 0), "__metadata__", "more than once");

    [Fact]
    public void MetadataNotObject_IsRejected() => AssertRejected(Build("""{"__metadata__":"pt"}""", 0), "__metadata__");

    [Fact]
    public void MetadataValueNotString_IsRejected() => AssertRejected(Build("""{"__metadata__":{"epochs":12}}""", 0), "__metadata__", "epochs", "string");

    [Fact]
    public void MetadataDuplicateKey_IsRejected() => AssertRejected(Build("""{"__metadata__":{"k":"a","k":"b"}}""", 0), "__metadata__", "'k'");

    [Fact]
    public void EmptyHeaderObjectAndNoData_IsAnEmptySet() => Assert.Empty(Parse(Build("{}", 0)).Names);

    [Fact]
    public void HeaderWithTrailingSpaces_IsAccepted() => Assert.Empty(Parse(Build("{}      ", 0)).Names);

    [Fact]
    public void NullMetadata_IsAccepted() => Assert.Empty(Parse(Build("""{"__metadata__":null}""", 0)).Metadata);

    [Fact]
    public void UnknownKeysInAnEntry_AreIgnored() =>
        Assert.Equal([1], Parse(Build("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}""", 4)).ShapeOf("w"));

    [Fact]
    public void EveryStandardDtype_IsRecognisedWithItsSize()
    {
        var sizes = new Dictionary<string, int>
        {
            ["F64"] = 8, ["F32"] = 4, ["F16"] = 2, ["BF16"] = 2, ["I64"] = 8, ["I32"] = 4, ["I16"] = 2, ["I8"] = 1,
            ["U64"] = 8, ["U32"] = 4, ["U16"] = 2, ["U8"] = 1, ["BOOL"] = 1, ["F8_E5M2"] = 1, ["F8_E4M3"] = 1, ["F8_E8M0"] = 1, ["C64"] = 8,
        };
        foreach (var (dtype, size) in sizes)
        {
            Assert.Equal([3], Parse(Build(Entry("t", dtype, "[3]", 0, 3 * size), 3 * size)).ShapeOf("t"));
            Assert.Throws<ModelFormatException>(() => Parse(Build(Entry("t", dtype, "[3]", 0, 3 * size + 1), 3 * size + 1)));
        }
    }

    /// <summary>Random corruption of a valid file must never surface as anything but ModelFormatException.</summary>
    [Fact]
    public void RandomCorruption_OnlyEverThrowsModelFormatException()
    {
        byte[] valid = Write([new("conv.weight", [2, 1, 3, 3], new float[18]), new("conv.bias", [2], [1, 2])],
            new Dictionary<string, string> { ["format"] = "pt" });
        var random = new Random(1234);
        for (int i = 0; i < 3000; i++)
        {
            byte[] file = (byte[])valid.Clone();
            int edits = random.Next(1, 4);
            for (int e = 0; e < edits; e++)
                file[random.Next(file.Length)] = (byte)random.Next(256);
            if (random.Next(4) == 0)
                file = file[..random.Next(file.Length)];
            try
            {
                var set = SafeTensors.Parse(file, FileName);
                foreach (var name in set.Names)
                    set.ShapeOf(name);
            }
            catch (ModelFormatException e)
            {
                Assert.StartsWith(FileName + ": ", e.Message);
            }
        }
    }
}
