using CnnService.Engine.Data;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Cli;

public class IdxHeadCommandTests
{
    [Fact]
    public void Idx_head_writes_the_first_items_with_the_count_as_first_dimension()
    {
        using var temp = new TempDir();
        string source = Fixtures.File("mnist-small", "t10k-images-idx3-ubyte.gz");

        CliResult r = Cnn.Run("idx-head", "--count", "3", source, temp.PathOf("head.gz"));

        Assert.Equal(0, r.ExitCode);
        IdxArray head = IdxFile.Read(temp.PathOf("head.gz")), all = IdxFile.Read(source);
        Assert.Equal([3, 28, 28], head.Dims);
        Assert.Equal(all.Data[..(3 * 784)], head.Data);
        Assert.Equal([0x1f, 0x8b], File.ReadAllBytes(temp.PathOf("head.gz"))[..2]);
    }

    [Fact]
    public void Idx_head_of_more_items_than_the_file_holds_fails()
    {
        using var temp = new TempDir();
        string source = Fixtures.File("mnist-small", "t10k-labels-idx1-ubyte.gz");

        CliResult r = Cnn.Run("idx-head", "--count", "1001", source, temp.PathOf("out"));

        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"cnn: {source}: holds 1,000 items, fewer than --count 1,001", r.Error);
    }

    [Fact]
    public void Idx_head_is_not_listed_in_the_help()
    {
        Assert.DoesNotContain("idx-head", Cnn.Run("--help").Stdout);
        Assert.StartsWith("usage: cnn idx-head", Cnn.Run("idx-head", "--help").Stdout);
    }
}
