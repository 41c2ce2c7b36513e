using CnnService.Engine.Format;
using CnnService.Engine.Onnx;
using CnnService.Engine.Tests.Support;
using static CnnService.Engine.Tests.Onnx.Pb;

namespace CnnService.Engine.Tests.Onnx;

/// <summary>External tensor data must come from a regular file inside the model's folder, within that file's bounds.</summary>
public class OnnxExternalDataTests
{
    private static readonly float[] Values = [1f, -2f, 3.5f];

    /// <summary>A model whose FLOAT initializer 'w' of dims [3] is external, with the given entries.</summary>
    private static byte[] ModelWithExternal(params (string Key, string Value)[] entries) =>
        ModelWith(Msg([PackedVarints(1, 3), Varint(2, 1), Str(8, "w"),
            .. entries.Select(e => Len(13, Msg(Str(1, e.Key), Str(2, e.Value)))), Varint(14, 1)]));

    private static OnnxModel ReadIn(string folder, byte[] model)
    {
        string path = Path.Combine(folder, "model.onnx");
        File.WriteAllBytes(path, model);
        return OnnxReader.Read(path);
    }

    private static ModelFormatException AssertRejectedIn(string folder, byte[] model, params string[] expected)
    {
        var e = Assert.Throws<ModelFormatException>(() => ReadIn(folder, model));
        Assert.StartsWith("model.onnx: tensor 'w'", e.Message);
        foreach (string part in expected)
            Assert.Contains(part, e.Message);
        return e;
    }

    [Fact]
    public void DataInASubfolder_IsRead()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("data"));
        File.WriteAllBytes(dir.File("data/w.bin"), [.. new byte[8], .. LittleEndian(Values)]);

        OnnxModel model = ReadIn(dir.Path, ModelWithExternal(("location", "data/w.bin"), ("offset", "8"), ("length", "12")));

        Assert.Equal(Values, model.Graph.Initializers.Single().ToFloats());
    }

    [Fact]
    public void LengthLeftOut_MeansTheRestOfTheFile()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("w.bin"), [0, .. LittleEndian(Values)]);

        OnnxModel model = ReadIn(dir.Path, ModelWithExternal(("location", "w.bin"), ("offset", "1")));

        Assert.Equal(Values, model.Graph.Initializers.Single().ToFloats());
    }

    [Fact]
    public void DotDotSegment_IsRejected()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("model"));
        File.WriteAllBytes(dir.File("x"), LittleEndian(Values));

        AssertRejectedIn(dir.File("model"), ModelWithExternal(("location", "../x")), "'../x'", "'..' segment");
    }

    [Fact]
    public void DotDotInTheMiddle_IsRejected()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("x"), LittleEndian(Values));

        AssertRejectedIn(dir.Path, ModelWithExternal(("location", "sub/../x")), "'..' segment");
    }

    [Fact]
    public void AbsolutePath_IsRejected()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("x"), LittleEndian(Values));

        AssertRejectedIn(dir.Path, ModelWithExternal(("location", dir.File("x"))), "absolute path");
    }

    [Fact]
    public void SymlinkToAFileOutside_IsRejected()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("model"));
        File.WriteAllBytes(dir.File("secret"), LittleEndian(Values));
        File.CreateSymbolicLink(dir.File("model/w.bin"), dir.File("secret"));

        AssertRejectedIn(dir.File("model"), ModelWithExternal(("location", "w.bin")), "symbolic link", "outside the model's folder");
    }

    [Fact]
    public void SymlinkedFolderLeadingOutside_IsRejected()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("model"));
        Directory.CreateDirectory(dir.File("elsewhere"));
        File.WriteAllBytes(dir.File("elsewhere/w.bin"), LittleEndian(Values));
        Directory.CreateSymbolicLink(dir.File("model/data"), dir.File("elsewhere"));

        AssertRejectedIn(dir.File("model"), ModelWithExternal(("location", "data/w.bin")), "outside the model's folder");
    }

    [Fact]
    public void SymlinkStayingInsideTheFolder_IsRead()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("real.bin"), LittleEndian(Values));
        File.CreateSymbolicLink(dir.File("w.bin"), "real.bin");

        OnnxModel model = ReadIn(dir.Path, ModelWithExternal(("location", "w.bin")));

        Assert.Equal(Values, model.Graph.Initializers.Single().ToFloats());
    }

    [Fact]
    public void ModelFolderReachedThroughASymlink_IsRead()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("real"));
        File.WriteAllBytes(dir.File("real/w.bin"), LittleEndian(Values));
        Directory.CreateSymbolicLink(dir.File("link"), dir.File("real"));

        OnnxModel model = ReadIn(dir.File("link"), ModelWithExternal(("location", "w.bin")));

        Assert.Equal(Values, model.Graph.Initializers.Single().ToFloats());
    }

    [Fact]
    public void OffsetPastTheEnd_IsRejected()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("w.bin"), LittleEndian(Values));

        AssertRejectedIn(dir.Path, ModelWithExternal(("location", "w.bin"), ("offset", "13"), ("length", "12")), "offset 13 is past the end", "12 bytes");
    }

    [Fact]
    public void LengthPastTheEnd_IsRejected()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("w.bin"), LittleEndian(Values));

        AssertRejectedIn(dir.Path, ModelWithExternal(("location", "w.bin"), ("offset", "4"), ("length", "12")), "offset 4 + length 12 is past the end");
    }

    [Fact]
    public void HugeLength_IsRejectedWithoutAllocating()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("w.bin"), LittleEndian(Values));

        AssertRejectedIn(dir.Path, ModelWithExternal(("location", "w.bin"), ("length", "9223372036854775807")), "past the end");
    }

    [Fact]
    public void LengthDisagreeingWithDims_IsRejected()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("w.bin"), new byte[16]);

        AssertRejectedIn(dir.Path, ModelWithExternal(("location", "w.bin"), ("length", "16")), "need 12 bytes", "is 16 bytes");
    }

    [Fact]
    public void NegativeOffset_IsRejected()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("w.bin"), LittleEndian(Values));

        AssertRejectedIn(dir.Path, ModelWithExternal(("location", "w.bin"), ("offset", "-4")), "offset '-4' is not a non-negative integer");
    }

    [Fact]
    public void MissingFile_IsRejected()
    {
        using var dir = new TempDir();

        AssertRejectedIn(dir.Path, ModelWithExternal(("location", "nope.bin")), "'nope.bin' does not exist");
    }

    [Fact]
    public void DirectoryAsLocation_IsRejected()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("d"));

        AssertRejectedIn(dir.Path, ModelWithExternal(("location", "d")), "does not exist");
    }

    [Fact]
    public void NoLocation_IsRejected()
    {
        using var dir = new TempDir();

        AssertRejectedIn(dir.Path, ModelWithExternal(("offset", "0")), "no location");
    }

    [Fact]
    public void ExternalAndRawDataTogether_IsRejected()
    {
        byte[] model = ModelWith(Msg(PackedVarints(1, 1), Varint(2, 1), Str(8, "w"), Len(9, new byte[4]),
            Len(13, Msg(Str(1, "location"), Str(2, "w.bin"))), Varint(14, 1)));

        OnnxHostileFileTests.AssertRejected(model, "external data and raw_data");
    }
}
