using CnnService.Engine.Onnx;
using static CnnService.Engine.Tests.Onnx.Pb;

namespace CnnService.Engine.Tests.Onnx;

/// <summary>Legal encodings other writers use: unpacked and split repeated fields, unknown fields, left-out types, subgraphs.</summary>
public class OnnxDecodingTests
{
    private static OnnxTensor OnlyInitializer(params byte[][] tensor) => OnnxReader.Read(ModelWith(tensor), null).Graph.Initializers.Single();

    private static OnnxNode OnlyNode(byte[] node) => OnnxReader.Read(Model(Len(1, node)), null).Graph.Nodes.Single();

    [Fact]
    public void UnpackedFloatData_IsRead() =>
        Assert.Equal([1f, 2f, 3f], OnlyInitializer(FloatTensor("w", [3], Fixed32(4, 1), Fixed32(4, 2), Fixed32(4, 3))).ToFloats());

    [Fact]
    public void FloatDataInSeveralPackedRuns_IsRead() =>
        Assert.Equal([1f, 2f, 3f, 4f], OnlyInitializer(FloatTensor("w", [2, 2], PackedFloats(4, 1, 2), Fixed32(4, 3), PackedFloats(4, 4))).ToFloats());

    [Fact]
    public void UnpackedDims_AreRead() =>
        Assert.Equal([2L, 1], OnlyInitializer(Msg(Varint(1, 2), Varint(1, 1), Varint(2, 1), Str(8, "w"), PackedFloats(4, 5, 6))).Dims);

    [Fact]
    public void UnpackedInt32DataForInt16_IsRead() =>
        Assert.Equal([-300L, 300], OnlyInitializer(Msg(PackedVarints(1, 2), Varint(2, 5), Str(8, "w"), Varint(5, -300), Varint(5, 300))).ToInt64s());

    [Fact]
    public void Uint64DataForUInt32_IsRead() =>
        Assert.Equal([4_000_000_000L], OnlyInitializer(Msg(PackedVarints(1, 1), Varint(2, 12), Str(8, "w"), PackedVarints(11, 4_000_000_000))).ToInt64s());

    [Fact]
    public void ScalarTensor_HasNoDimsAndOneElement()
    {
        OnnxTensor t = OnlyInitializer(Msg(Varint(2, 1), Str(8, "s"), PackedFloats(4, 9)));

        Assert.Empty(t.Dims);
        Assert.Equal([9f], t.ToFloats());
    }

    [Fact]
    public void ZeroElementTensorWithoutData_IsRead() => Assert.Equal(0, OnlyInitializer(FloatTensor("w", [3, 0])).ElementCount);

    [Fact]
    public void RawData_IsNotCopied()
    {
        byte[] file = ModelWith(FloatTensor("w", [2], Len(9, LittleEndian(1, 2))));

        OnnxTensor t = OnnxReader.Read(file, null).Graph.Initializers.Single();

        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(t.Data, out ArraySegment<byte> segment));
        Assert.Same(file, segment.Array);
    }

    [Fact]
    public void UnknownFieldsInEveryMessage_AreSkipped()
    {
        byte[] junk = Msg(Varint(900, 1), Fixed64(901, 2), Str(902, "x"), Fixed32(903, 3));
        byte[] attribute = Msg(junk, Str(1, "axis"), Varint(3, 1), Varint(20, 2));
        byte[] node = Msg(junk, Str(1, "x"), Str(2, "y"), Str(4, "Flatten"), Len(5, attribute));
        byte[] tensor = Msg(junk, FloatTensor("w", [1], PackedFloats(4, 7)));
        byte[] input = Msg(junk, Str(1, "x"), Len(2, Msg(junk, Len(1, Msg(junk, Varint(1, 1), Len(2, Msg(junk, Len(1, Msg(junk, Varint(1, 4))))))))));
        byte[] model = Msg(junk, Varint(1, 8), Len(7, Msg(junk, Len(1, node), Len(5, tensor), Len(11, input))), Len(8, Msg(junk, Varint(2, 13))));

        OnnxModel m = OnnxReader.Read(model, null);

        Assert.Equal(1, m.Graph.Nodes.Single().GetInt("axis", 0));
        Assert.Equal([7f], m.Graph.Initializers.Single().ToFloats());
        Assert.Equal([OnnxDim.Of(4)], m.Graph.Inputs.Single().Dims);
        Assert.Equal(13, m.DefaultOpsetVersion);
    }

    [Fact]
    public void GraphAttribute_IsKeptAsUnsupportedWithoutParsingIt()
    {
        // The subgraph's bytes are not a valid message: skipping them whole must not look inside.
        byte[] attribute = Msg(Str(1, "then_branch"), Len(6, [0xFF, 0xFF, 0xFF]), Varint(20, 5));

        OnnxAttribute a = OnlyNode(Node("If", "c", "y", attribute)).Attributes["then_branch"];

        Assert.Equal(OnnxAttributeType.Graph, a.Type);
        Assert.True(a.IsUnsupported);
    }

    [Fact]
    public void AttributeWithoutType_TakesTheTypeOfItsValue()
    {
        OnnxNode node = OnlyNode(Node("Gemm", "x", "y", Msg(Str(1, "alpha"), Fixed32(2, 0.5f)), Msg(Str(1, "perm"), Varint(8, 1), Varint(8, 0))));

        Assert.Equal(0.5f, node.GetFloat("alpha", 0));
        Assert.Equal([1L, 0], node.GetInts("perm")!);
    }

    [Fact]
    public void AttributeOfTheWrongTypeForTheAccessor_NamesNodeAndAttribute()
    {
        OnnxNode node = OnlyNode(Node("Conv", "x", "y", Msg(Str(1, "group"), Fixed32(2, 1f), Varint(20, 1))));

        var e = Assert.Throws<CnnService.Engine.Format.ModelFormatException>(() => node.GetInt("group", 1));
        Assert.Contains("node 'conv' (Conv): attribute 'group' is FLOAT, expected INT", e.Message);
    }

    [Fact]
    public void SequenceTypedValue_IsNotATensor()
    {
        byte[] input = Msg(Str(1, "seq"), Len(2, Len(4, Len(1, Len(1, Varint(1, 1))))));

        OnnxValueInfo v = OnnxReader.Read(Model(Msg(Len(1, Node("Identity", "seq", "y")), Len(11, input))), null).Graph.Inputs.Single();

        Assert.False(v.IsTensor);
        Assert.Null(v.Dims);
    }
}
