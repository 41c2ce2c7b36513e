using System.Text;
using CnnService.Engine.Format;
using CnnService.Engine.Tests.Support;
using static CnnService.Engine.Tests.Format.SafeTensorsBytes;

namespace CnnService.Engine.Tests.Format;

public class SafeTensorsRoundTripTests
{
    private static readonly NamedTensor[] Sample =
    [
        new("fc.weight", [2, 3], [1, 2, 3, 4, 5, 6]),
        new("conv.weight", [1, 1, 2, 2], [-1.5f, 0, float.Epsilon, float.MaxValue]),
        new("fc.bias", [2], [0.25f, -0.25f]),
    ];

    [Fact]
    public void WriteThenParse_KeepsNamesShapesAndData()
    {
        var set = Parse(Write(Sample));
        Assert.Equal(["conv.weight", "fc.bias", "fc.weight"], set.Names);
        foreach (var t in Sample)
            Assert.Equal(t.Data, set.Take(t.Name, t.Shape));
        set.EnsureAllTaken();
    }

    [Fact]
    public void WriteThenParse_KeepsMetadata()
    {
        var set = Parse(Write(Sample, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "é \"quoted\"" }));
        Assert.Equal("pt", set.Metadata["format"]);
        Assert.Equal("é \"quoted\"", set.Metadata["note"]);
    }

    [Fact]
    public void Write_WithoutMetadata_WritesNoMetadataKey() =>
        Assert.DoesNotContain("__metadata__", HeaderOf(Write(Sample)));

    [Fact]
    public void Write_SortsTensorsByNameWithMetadataFirst()
    {
        string header = HeaderOf(Write(Sample, new Dictionary<string, string> { ["format"] = "pt" }));
        Assert.StartsWith("""{"__metadata__":{"format":"pt"},"conv.weight":{"dtype":"F32","shape":[1,1,2,2],"data_offsets":[0,16]},"fc.bias":""", header);
        Assert.Contains("""{"dtype":"F32","shape":[2,3],"data_offsets":[24,48]}}""", header);
    }

    [Fact]
    public void Write_PadsHeaderWithSpacesToAMultipleOfEight()
    {
        for (int nameLength = 1; nameLength <= 8; nameLength++)
        {
            byte[] file = Write([new NamedTensor(new string('a', nameLength), [1], [1])]);
            string header = HeaderOf(file);
            Assert.Equal(0, header.Length % 8);
            Assert.Equal(header.TrimEnd(' ').Length, header.LastIndexOf('}') + 1);
        }
    }

    [Fact]
    public void Write_MatchesTheReferenceImplementationByteForByte()
    {
        // From the safetensors crate's test_serialization: one F32 tensor "attn.0" [1,2,3] = 0..5.
        byte[] expected =
        [
            64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
            116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
            58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
            101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
            0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
        ];
        Assert.Equal(expected, Write([new NamedTensor("attn.0", [1, 2, 3], [0, 1, 2, 3, 4, 5])]));
    }

    [Fact]
    public void Write_EmptySetWithMetadata_MatchesTheReferenceImplementation()
    {
        // From the safetensors crate's test_empty.
        byte[] expected = [40, 0, 0, 0, 0, 0, 0, 0, .. Encoding.ASCII.GetBytes("""{"__metadata__":{"framework":"pt"}}     """)];
        Assert.Equal(expected, Write([], new Dictionary<string, string> { ["framework"] = "pt" }));
    }

    [Fact]
    public void ScalarAndEmptyTensors_RoundTrip()
    {
        var set = Parse(Write([new("scalar", [], [42]), new("empty", [0, 3], [])]));
        Assert.Equal([42f], set.Take("scalar"));
        Assert.Empty(set.Take("empty", 0, 3));
        Assert.Equal([0, 3], set.ShapeOf("empty"));
    }

    [Fact]
    public void Write_DuplicateNames_IsAnArgumentException() =>
        Assert.Throws<ArgumentException>(() => Write([new("a", [1], [1]), new("a", [1], [2])]));

    [Fact]
    public void Write_ShapeNotMatchingData_IsAnArgumentException() =>
        Assert.Throws<ArgumentException>(() => Write([new("a", [2, 2], [1, 2, 3])]));

    [Fact]
    public void Write_ReservedMetadataName_IsAnArgumentException() =>
        Assert.Throws<ArgumentException>(() => Write([new("__metadata__", [1], [1])]));

    [Fact]
    public void WriteToPath_ThenRead_RoundTrips()
    {
        using var dir = new TempDir();
        string path = dir.File("weights.safetensors");
        SafeTensors.Write(path, Sample, new Dictionary<string, string> { ["format"] = "pt" });
        var set = SafeTensors.Read(path);
        Assert.Equal(path, set.FileName);
        Assert.Equal("pt", set.Metadata["format"]);
        Assert.Equal(Sample[0].Data, set.Take("fc.weight", 2, 3));
    }

    [Fact]
    public void WriteToPath_ReplacesAnExistingFileAndLeavesNoTemporaryFile()
    {
        using var dir = new TempDir();
        string path = dir.File("weights.safetensors");
        File.WriteAllText(path, "old");
        SafeTensors.Write(path, Sample);
        Assert.Equal(["weights.safetensors"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
        Assert.Equal(3, SafeTensors.Read(path).Names.Count);
    }

    [Fact]
    public void WriteToPath_InvalidTensor_LeavesTheOldFileAndNoTemporaryFile()
    {
        using var dir = new TempDir();
        string path = dir.File("weights.safetensors");
        SafeTensors.Write(path, Sample);
        byte[] before = File.ReadAllBytes(path);
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(path, [new NamedTensor("a", [2], [1])]));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Read_MissingFile_IsAModelFormatExceptionNamingThePath()
    {
        using var dir = new TempDir();
        string path = dir.File("missing.safetensors");
        var e = Assert.Throws<ModelFormatException>(() => SafeTensors.Read(path));
        Assert.StartsWith(path + ": ", e.Message);
    }

    [Fact]
    public void Read_InvalidFile_ErrorsNameThePath()
    {
        using var dir = new TempDir();
        string path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        var e = Assert.Throws<ModelFormatException>(() => SafeTensors.Read(path));
        Assert.StartsWith(path + ": ", e.Message);
    }

    [Fact]
    public void AllFloat32_WritesBackToAnEquivalentFile()
    {
        byte[] original = Write(Sample, new Dictionary<string, string> { ["format"] = "pt" });
        var set = Parse(original);
        Assert.Equal(original, Write(set.AllFloat32(), set.Metadata));
    }
}
