using CnnService.Engine.Data;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Data;

public class IdxDatasetTests
{
    [Fact]
    public void Opens_the_mnist_test_split_with_shape_count_and_labels()
    {
        IdxDataset data = IdxDataset.Open(Fixtures.MnistSmall, DatasetSplit.Test);

        Assert.Equal(1000, data.Count);
        Assert.Equal(new TensorShape(1, 28, 28), data.Shape);
        Assert.Equal("mnist-small (t10k)", data.Name);
        Assert.Equal([7, 2, 1, 0, 4], Enumerable.Range(0, 5).Select(data.Label));
    }

    [Fact]
    public void Opens_the_training_split_from_the_train_files()
    {
        IdxDataset data = IdxDataset.Open(Fixtures.FashionMnistSmall, DatasetSplit.Train);

        Assert.Equal(2000, data.Count);
        Assert.Equal("fashion-mnist-small (train)", data.Name);
        Assert.Equal(9, data.Label(0));
    }

    [Fact]
    public void Without_class_names_there_are_max_label_plus_one_classes_named_by_number()
    {
        IdxDataset data = IdxDataset.Open(Fixtures.MnistSmall, DatasetSplit.Test);

        Assert.Equal(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], data.Classes);
    }

    [Fact]
    public void Given_class_names_are_the_classes()
    {
        string[] names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"];
        Assert.Equal(names, IdxDataset.Open(Fixtures.MnistSmall, DatasetSplit.Test, names).Classes);
    }

    [Fact]
    public void Copies_raw_pixels_as_floats()
    {
        IdxDataset data = IdxDataset.Open(Fixtures.MnistSmall, DatasetSplit.Train);
        var pixels = new float[784];

        data.CopyPixels(0, pixels);

        Assert.Equal(27525, pixels.Sum());
        Assert.Equal(240f, pixels[14 * 28 + 14]);
        Assert.All(pixels, p => Assert.InRange(p, 0f, 255f));
    }

    [Fact]
    public void A_plain_file_is_preferred_over_its_gzip()
    {
        using var temp = new TempDir();
        Fixtures.CopyTo(Fixtures.MnistSmall, temp.Path);
        IdxWriter.Write(temp.File("t10k-labels-idx1-ubyte"), new IdxArray([1000], Enumerable.Repeat((byte)3, 1000).ToArray()), gzip: false);

        IdxDataset data = IdxDataset.Open(temp.Path, DatasetSplit.Test);

        Assert.Equal(3, data.Label(0));
    }

    [Fact]
    public void Missing_files_list_every_name_looked_for_and_the_directory()
    {
        using var temp = new TempDir();
        Fixtures.CopyTo(Fixtures.MnistSmall, temp.Path);
        File.Delete(temp.File("t10k-labels-idx1-ubyte.gz"));

        var e = Assert.Throws<DatasetFormatException>(() => IdxDataset.Open(temp.Path, DatasetSplit.Test));

        Assert.Equal(
            $"{temp.Path}: no labels for the t10k split; looked for t10k-images-idx3-ubyte, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte and t10k-labels-idx1-ubyte.gz",
            e.Message);
    }

    [Fact]
    public void A_missing_directory_is_named()
    {
        string missing = Path.Combine(Path.GetTempPath(), "cnnservice-no-such-dataset-" + Guid.NewGuid().ToString("N"));
        var e = Assert.Throws<DatasetFormatException>(() => IdxDataset.Open(missing, DatasetSplit.Test));
        Assert.Equal($"{missing}: no such dataset directory", e.Message);
    }

    [Fact]
    public void Labels_and_images_of_different_counts_are_rejected()
    {
        using var temp = new TempDir();
        Fixtures.CopyTo(Fixtures.MnistSmall, temp.Path);
        IdxWriter.Write(temp.File("t10k-labels-idx1-ubyte.gz"), new IdxArray([999], new byte[999]), gzip: true);

        var e = Assert.Throws<DatasetFormatException>(() => IdxDataset.Open(temp.Path, DatasetSplit.Test));

        Assert.Equal($"{temp.File("t10k-labels-idx1-ubyte.gz")}: 999 labels, but {temp.File("t10k-images-idx3-ubyte.gz")} holds 1,000 images", e.Message);
    }

    [Fact]
    public void A_label_beyond_the_class_names_is_rejected_with_its_index()
    {
        using var temp = new TempDir();
        Fixtures.CopyTo(Fixtures.MnistSmall, temp.Path);

        var e = Assert.Throws<DatasetFormatException>(() => IdxDataset.Open(temp.Path, DatasetSplit.Test, ["0", "1", "2", "3", "4", "5", "6", "7", "8"]));

        Assert.Equal($"{temp.File("t10k-labels-idx1-ubyte.gz")}: label 9 at index 7 is out of range; this dataset has 9 classes (0 to 8)", e.Message);
    }

    [Fact]
    public void Images_that_are_not_three_dimensional_are_rejected()
    {
        using var temp = new TempDir();
        Fixtures.CopyTo(Fixtures.MnistSmall, temp.Path);
        IdxWriter.Write(temp.File("t10k-images-idx3-ubyte"), new IdxArray([1000, 784], new byte[784_000]), gzip: false);

        var e = Assert.Throws<DatasetFormatException>(() => IdxDataset.Open(temp.Path, DatasetSplit.Test));

        Assert.Equal($"{temp.File("t10k-images-idx3-ubyte")}: images must be 3-D (count, height, width); the file is 2-D (1000, 784)", e.Message);
    }

    [Fact]
    public void Labels_that_are_not_one_dimensional_are_rejected()
    {
        using var temp = new TempDir();
        Fixtures.CopyTo(Fixtures.MnistSmall, temp.Path);
        IdxWriter.Write(temp.File("t10k-labels-idx1-ubyte"), new IdxArray([1000, 1], new byte[1000]), gzip: false);

        var e = Assert.Throws<DatasetFormatException>(() => IdxDataset.Open(temp.Path, DatasetSplit.Test));

        Assert.Contains("labels must be 1-D (count); the file is 2-D (1000, 1)", e.Message);
    }
}
