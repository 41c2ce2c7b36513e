using System.Text;
using CnnService.Engine.Format;
using static CnnService.Engine.Tests.Format.SafeTensorsBytes;

namespace CnnService.Engine.Tests.Format;

/// <summary>
/// A file laid out exactly as <c>safetensors.torch.save_file</c> writes the state_dict of
/// <c>Sequential(conv=Conv2d(1, 2, 3), bn=BatchNorm2d(2))</c>: <c>__metadata__ {"format":"pt"}</c>
/// first; tensors ordered by dtype (larger first: I64 before F32), then by name; compact JSON
/// padded with spaces to 8 bytes. No PyTorch here, so the bytes are built by hand.
/// </summary>
public class TorchStateDictTests
{
    // Written with ' for readability; the file has ".
    private static readonly string Header = (
        "{'__metadata__':{'format':'pt'}," +
        "'bn.num_batches_tracked':{'dtype':'I64','shape':[],'data_offsets':[0,8]}," +
        "'bn.bias':{'dtype':'F32','shape':[2],'data_offsets':[8,16]}," +
        "'bn.running_mean':{'dtype':'F32','shape':[2],'data_offsets':[16,24]}," +
        "'bn.running_var':{'dtype':'F32','shape':[2],'data_offsets':[24,32]}," +
        "'bn.weight':{'dtype':'F32','shape':[2],'data_offsets':[32,40]}," +
        "'conv.bias':{'dtype':'F32','shape':[2],'data_offsets':[40,48]}," +
        "'conv.weight':{'dtype':'F32','shape':[2,1,3,3],'data_offsets':[48,120]}}").Replace('\'', '"');

    private static readonly float[] ConvWeight = [.. Enumerable.Range(0, 18).Select(i => i * 0.5f - 4)];

    private static byte[] TorchFile()
    {
        string padded = Header + new string(' ', (8 - Header.Length % 8) % 8);
        byte[] data =
        [
            .. BitConverter.GetBytes(7L), // num_batches_tracked = 7 (little-endian on the test machines)
            .. Floats(0.1f, -0.1f), .. Floats(0.5f, 1.5f), .. Floats(1f, 4f), .. Floats(1f, 2f),
            .. Floats(0.25f, -0.25f), .. Floats(ConvWeight),
        ];
        return Build(padded, data);
    }

    [Fact]
    public void TheFixtureHeaderIsPaddedLikeTheReference() => Assert.Equal(0, HeaderOf(TorchFile()).Length % 8);

    [Fact]
    public void TorchFile_Parses_WithItsMetadata()
    {
        var set = Parse(TorchFile());
        Assert.Equal("pt", set.Metadata["format"]);
        Assert.Equal(7, set.Names.Count);
        Assert.Equal([], set.ShapeOf("bn.num_batches_tracked"));
    }

    [Fact]
    public void TorchFile_TakeConvAndBatchNorm_IgnoreCounter_LeavesNothingUnused()
    {
        var set = Parse(TorchFile());
        Assert.Equal(ConvWeight, set.Take("conv.weight", 2, 1, 3, 3));
        Assert.Equal([0.25f, -0.25f], set.Take("conv.bias", 2));
        Assert.Equal([1f, 2f], set.Take("bn.weight", 2));
        Assert.Equal([0.1f, -0.1f], set.Take("bn.bias", 2));
        Assert.Equal([0.5f, 1.5f], set.Take("bn.running_mean", 2));
        Assert.Equal([1f, 4f], set.Take("bn.running_var", 2));
        set.Ignore("bn.num_batches_tracked");
        set.EnsureAllTaken();
    }

    [Fact]
    public void TorchFile_WithoutIgnoringTheCounter_ReportsIt()
    {
        var set = Parse(TorchFile());
        foreach (var (name, shape) in new[] { ("conv.weight", new[] { 2, 1, 3, 3 }), ("conv.bias", [2]), ("bn.weight", [2]),
                     ("bn.bias", [2]), ("bn.running_mean", [2]), ("bn.running_var", [2]) })
            set.Take(name, shape);
        var e = Assert.Throws<ModelFormatException>(set.EnsureAllTaken);
        Assert.Contains("unexpected tensor 'bn.num_batches_tracked'", e.Message);
    }

    [Fact]
    public void TorchFile_TakingTheI64Counter_IsADtypeError() =>
        Assert.Contains("has dtype I64, expected F32",
            Assert.Throws<ModelFormatException>(() => Parse(TorchFile()).Take("bn.num_batches_tracked")).Message);

    [Fact]
    public void OurWriter_ProducesTorchLayoutForFloatTensors()
    {
        // Without the I64 counter, save_file's order is plain name order, which is what we write.
        var set = Parse(TorchFile());
        byte[] written = Write(set.AllFloat32(), set.Metadata);
        string expected = "{'__metadata__':{'format':'pt'},'bn.bias':{'dtype':'F32','shape':[2],'data_offsets':[0,8]},".Replace('\'', '"');
        Assert.StartsWith(expected, HeaderOf(written));
        Assert.Equal(ConvWeight, Parse(written).Take("conv.weight", 2, 1, 3, 3));
        Assert.Equal(0, Encoding.UTF8.GetByteCount(HeaderOf(written)) % 8);
    }
}
