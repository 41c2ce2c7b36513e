using CnnService.Engine.Data;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Data;

public class DatasetSubsetTests
{
    private static readonly IdxDataset Mnist = IdxDataset.Open(Fixtures.MnistSmall, DatasetSplit.Test);

    [Fact]
    public void Item_i_is_the_source_item_at_the_ith_index()
    {
        var subset = new DatasetSubset(Mnist, [4, 0, 4]);
        float[] expected = new float[784], actual = new float[784];

        Assert.Equal(3, subset.Count);
        Assert.Equal([4, 7, 4], new[] { subset.Label(0), subset.Label(1), subset.Label(2) });
        Mnist.CopyPixels(4, expected);
        subset.CopyPixels(2, actual);
        Assert.Equal(expected, actual);
        Assert.Equal(Mnist.Shape, subset.Shape);
        Assert.Same(Mnist.Classes, subset.Classes);
    }

    [Fact]
    public void First_takes_the_first_items_and_says_so_in_its_name()
    {
        DatasetSubset first = DatasetSubset.First(Mnist, 10);

        Assert.Equal(10, first.Count);
        Assert.Equal("mnist-small (t10k), first 10", first.Name);
        Assert.Equal(2, first.Label(1));
    }

    [Fact]
    public void First_of_more_than_there_are_is_everything()
    {
        DatasetSubset all = DatasetSubset.First(Mnist, 5000);

        Assert.Equal(1000, all.Count);
        Assert.Equal(Mnist.Name, all.Name);
    }

    [Fact]
    public void An_index_out_of_range_is_refused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new DatasetSubset(Mnist, [0, 1000]));
        Assert.Contains("Index 1 of the subset is out of range: mnist-small (t10k) has 1000 items.", e.Message);
    }
}
