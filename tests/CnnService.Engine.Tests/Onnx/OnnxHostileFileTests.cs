using CnnService.Engine.Format;
using CnnService.Engine.Onnx;
using CnnService.Engine.Tests.Support;
using static CnnService.Engine.Tests.Onnx.Pb;

namespace CnnService.Engine.Tests.Onnx;

/// <summary>Broken and hostile ONNX files: each is a ModelFormatException naming the file and the fault.</summary>
public class OnnxHostileFileTests
{
    internal static ModelFormatException AssertRejected(byte[] bytes, params string[] expected)
    {
        var e = Assert.Throws<ModelFormatException>(() => OnnxReader.Read(bytes, null, "hostile.onnx"));
        Assert.StartsWith("hostile.onnx: ", e.Message);
        foreach (string part in expected)
            Assert.Contains(part, e.Message);
        return e;
    }

    [Fact]
    public void EmptyFile_IsRejected() => AssertRejected([], "empty");

    [Fact]
    public void ModelWithoutGraph_IsRejected() => AssertRejected(Msg(Varint(1, 8), Str(2, "me")), "no graph");

    [Fact]
    public void TorchFileCutAnywhereInsideTheGraph_IsTruncated()
    {
        byte[] file = File.ReadAllBytes(OnnxFixtureTests.Fixture("torch_conv.onnx"));
        (int start, int end) = GraphPayload(file);

        for (int cut = start; cut < end; cut++)
            AssertRejected(file[..cut], "truncated");
    }

    [Fact]
    public void TorchFileCutInsideProducerName_IsTruncated()
    {
        byte[] file = File.ReadAllBytes(OnnxFixtureTests.Fixture("torch_conv.onnx"));
        int producer = file.AsSpan().IndexOf("pytorch"u8);

        AssertRejected(file[..(producer + 3)], "truncated");
    }

    [Fact]
    public void TorchFileCutInsideATag_IsTruncated()
    {
        // A tag of field 20 takes two bytes; the file ends after the first.
        byte[] file = [.. File.ReadAllBytes(OnnxFixtureTests.Fixture("torch_conv.onnx")), .. Tag(20, 0)[..1]];

        AssertRejected(file, "truncated", "varint");
    }

    [Fact]
    public void NestedLengthPastItsParent_IsTruncatedEvenWithFileBytesAfter()
    {
        // raw_data claims 100 bytes; the tensor message holds 4, the graph's later bytes must not count.
        byte[] tensor = Msg(PackedVarints(1, 1), Varint(2, 1), Str(8, "w"), Tag(9, 2), RawVarint(100), new byte[4]);
        byte[] model = Model(Msg(Len(5, tensor), Str(2, new string('g', 200))));

        AssertRejected(model, "truncated", "declares 100 bytes but only 4 remain");
    }

    [Fact]
    public void VarintOfElevenBytes_IsRejected() =>
        AssertRejected(Msg(Tag(1, 0), [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]), "longer than 10 bytes");

    [Fact]
    public void VarintAbove2To64_IsRejected() =>
        AssertRejected(Msg(Tag(1, 0), [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02]), "above 2^64");

    [Fact]
    public void PackedVarintOfElevenBytes_IsRejected()
    {
        byte[] dims = Len(1, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]);

        AssertRejected(ModelWith(Msg(dims, Varint(2, 1), Str(8, "w"))), "TensorProto.dims", "longer than 10 bytes");
    }

    [Fact]
    public void PackedInt64DataWithAnOverlongVarint_IsRejected()
    {
        byte[] data = Len(7, [0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]);

        AssertRejected(ModelWith(Msg(PackedVarints(1, 2), Varint(2, 7), Str(8, "ids"), data)), "longer than 10 bytes");
    }

    [Fact]
    public void PackedInt64DataEndingMidVarint_IsTruncated() =>
        AssertRejected(ModelWith(Msg(PackedVarints(1, 2), Varint(2, 7), Str(8, "ids"), Len(7, [0x01, 0x81]))), "int64_data", "ends inside a varint");

    [Fact]
    public void GraphAsVarint_IsWrongWireType() => AssertRejected(Msg(Varint(1, 8), Varint(7, 1)), "ModelProto.graph", "wire type 0");

    [Fact]
    public void OpTypeAsFixed32_IsWrongWireType() =>
        AssertRejected(Model(Len(1, Msg(Str(1, "x"), Fixed32(4, 1f)))), "NodeProto.op_type", "wire type 5");

    [Fact]
    public void DataTypeAsString_IsWrongWireType() =>
        AssertRejected(ModelWith(Msg(Str(2, "FLOAT"), Str(8, "w"))), "TensorProto.data_type", "wire type 2");

    [Fact]
    public void FloatDataAsVarint_IsWrongWireType() =>
        AssertRejected(ModelWith(FloatTensor("w", [1], Varint(4, 1))), "TensorProto.float_data", "wire type 0");

    [Fact]
    public void GroupWireType_IsRejected() => AssertRejected(Msg(Tag(9, 3), Tag(9, 4)), "group");

    [Fact]
    public void WireType7_IsRejected() => AssertRejected(Msg(Tag(9, 7), [0]), "invalid wire type 7");

    [Fact]
    public void FieldNumberZero_IsRejected() => AssertRejected(Msg(Tag(0, 0), [1]), "invalid field tag");

    [Fact]
    public void NegativeDim_IsRejected() =>
        AssertRejected(ModelWith(FloatTensor("w", [2, -1], Len(9, []))), "tensor 'w'", "negative dimension");

    [Fact]
    public void DimsProductOverflow_IsRejected() =>
        AssertRejected(ModelWith(FloatTensor("w", [1L << 40, 1L << 40], Len(9, []))), "tensor 'w'", "overflows int64");

    [Fact]
    public void DimsAboveElementCap_IsRejected() =>
        AssertRejected(ModelWith(FloatTensor("w", [65536, 65536], Len(9, []))), "tensor 'w'", "more than the limit");

    [Fact]
    public void RawDataShorterThanDims_IsRejected() =>
        AssertRejected(ModelWith(FloatTensor("w", [2, 3], Len(9, new byte[20]))), "tensor 'w'", "need 24 bytes", "raw_data has 20");

    [Fact]
    public void RawDataLongerThanDims_IsRejected() =>
        AssertRejected(ModelWith(FloatTensor("w", [2], Len(9, new byte[12]))), "need 8 bytes", "raw_data has 12");

    [Fact]
    public void FloatDataCountDisagreesWithDims_IsRejected() =>
        AssertRejected(ModelWith(FloatTensor("w", [2, 2], PackedFloats(4, 1, 2, 3))), "tensor 'w'", "float_data has 3 values");

    [Fact]
    public void Int64DataForFloatTensor_IsRejected() =>
        AssertRejected(ModelWith(FloatTensor("w", [2], PackedVarints(7, 1, 2))), "tensor 'w' is FLOAT", "int64_data");

    [Fact]
    public void RawDataAndFloatDataTogether_IsRejected() =>
        AssertRejected(ModelWith(FloatTensor("w", [1], Len(9, new byte[4]), PackedFloats(4, 1))), "both raw_data and float_data");

    [Fact]
    public void InitializerWithoutData_IsRejected() =>
        AssertRejected(ModelWith(FloatTensor("w", [3])), "tensor 'w'", "no data");

    [Fact]
    public void TensorWithoutDataType_IsRejected() =>
        AssertRejected(ModelWith(Msg(PackedVarints(1, 1), Str(8, "w"), Len(9, new byte[4]))), "tensor 'w' has no data_type");

    [Fact]
    public void UnknownDataType_IsRejected() =>
        AssertRejected(ModelWith(Msg(Varint(2, 99), Str(8, "w"))), "unknown data_type 99");

    [Fact]
    public void PackedFieldLongerThanBuffer_IsTruncated() =>
        AssertRejected(ModelWith(FloatTensor("w", [4], Tag(4, 2), RawVarint(1_000_000), new byte[16])), "truncated", "declares 1000000 bytes");

    [Fact]
    public void PackedFieldDeclaringAGigabyte_AllocatesNothingOfThatSize()
    {
        byte[] model = ModelWith(FloatTensor("w", [1 << 28], Tag(4, 2), RawVarint(1UL << 30), new byte[16]));

        long bytes = Allocations.Fewest(5, () => Assert.Throws<ModelFormatException>(() => OnnxReader.Read(model, null)));

        Assert.True(bytes < 64 * 1024, $"{bytes} bytes allocated");
    }

    [Fact]
    public void PackedFloatsNotAMultipleOfFour_IsRejected() =>
        AssertRejected(ModelWith(FloatTensor("w", [1], Len(4, new byte[6]))), "not a multiple of 4");

    [Fact]
    public void InvalidUtf8Name_IsRejected() =>
        AssertRejected(ModelWith(Msg(Varint(2, 1), Len(8, [0x77, 0xFF, 0xFE]), Len(9, new byte[4]))), "TensorProto.name", "UTF-8");

    [Fact]
    public void DuplicateInitializerNames_AreRejected() =>
        AssertRejected(ModelWith(FloatTensor("w", [1], PackedFloats(4, 1)), FloatTensor("w", [1], PackedFloats(4, 2))), "initializer 'w' appears more than once");

    [Fact]
    public void DuplicateAttributeNames_AreRejected() =>
        AssertRejected(Model(Len(1, Node("Relu", "x", "y", Msg(Str(1, "a"), Varint(3, 1), Varint(20, 2)), Msg(Str(1, "a"), Varint(3, 2), Varint(20, 2))))),
            "node 'relu' (Relu)", "attribute 'a' appears more than once");

    [Fact]
    public void NodeWithoutOpType_IsRejected() => AssertRejected(Model(Len(1, Msg(Str(1, "x"), Str(3, "n")))), "node 'n' has no op_type");

    [Fact]
    public void SegmentedTensor_IsRejected() =>
        AssertRejected(ModelWith(FloatTensor("w", [1], Len(3, Msg(Varint(1, 0), Varint(2, 1))), PackedFloats(4, 1))), "segment");

    [Fact]
    public void TwoGraphs_AreRejected()
    {
        byte[] graph = Msg(Len(1, Node("Relu", "x", "y")));

        AssertRejected(Msg(Varint(1, 8), Len(7, graph), Len(7, graph)), "graph appears more than once");
    }

    /// <summary>Where the torch file's ModelProto.graph payload lies, found with the reader under test's own ProtoReader.</summary>
    private static (int Start, int End) GraphPayload(byte[] file)
    {
        var r = new ProtoReader(file, "torch_conv.onnx");
        while (r.NextField())
        {
            if (r.Field == 7)
            {
                int end = r.ReadBytes("graph").Length;
                return (r.Position - end, r.Position);
            }

            r.Skip();
        }

        throw new InvalidOperationException("no graph");
    }
}
