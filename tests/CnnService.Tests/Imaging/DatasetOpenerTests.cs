using CnnService.Engine.Data;
using CnnService.Imaging;
using CnnService.Tests.Imaging.Support;
using CnnService.Tests.Support;

namespace CnnService.Tests.Imaging;

public sealed class DatasetOpenerTests
{
    [Fact]
    public void An_idx_directory_is_read_as_idx()
    {
        IDataset data = DatasetOpener.Open(Fixtures.MnistSmall, DatasetSplit.Test, dataRoot: null);

        Assert.IsType<IdxDataset>(data);
        Assert.Equal(1000, data.Count);
    }

    [Fact]
    public void A_known_name_is_looked_for_under_the_data_root()
    {
        using var temp = new TempFolder();
        foreach (string file in Directory.GetFiles(Fixtures.MnistSmall)) temp.Write(Path.Combine("mnist", Path.GetFileName(file)), File.ReadAllBytes(file));

        IDataset data = DatasetOpener.Open("mnist", DatasetSplit.Train, temp.Root);

        Assert.Equal(2000, data.Count);
        Assert.Equal("0", data.Classes[0]);
    }

    [Fact]
    public void An_image_folder_is_read_for_the_models_input()
    {
        using var temp = new TempFolder();
        temp.Copy("photo-0.png", "zero/a.png");

        IDataset data = DatasetOpener.Open(temp.Root, DatasetSplit.Test, null, MnistModel.MnistInput);

        Assert.IsType<ImageFolderDataset>(data);
        Assert.Equal(["zero"], data.Classes);
    }

    [Fact]
    public void An_image_folder_without_an_input_spec_is_the_callers_error()
    {
        using var temp = new TempFolder();
        temp.Copy("photo-0.png", "zero/a.png");

        var e = Assert.Throws<ArgumentException>(() => DatasetOpener.Open(temp.Root, DatasetSplit.Test, null));

        Assert.StartsWith($"{temp.Root} is an image folder: opening it needs the model's input spec", e.Message);
    }

    [Fact]
    public void A_directory_that_is_neither_says_what_was_looked_for()
    {
        using var temp = new TempFolder();
        temp.Write("notes/readme.txt", "x"u8.ToArray());
        temp.Write("data.csv", "1,2"u8.ToArray());

        var e = Assert.Throws<DatasetFormatException>(() => DatasetOpener.Open(temp.Root, DatasetSplit.Test, null, MnistModel.MnistInput));

        Assert.StartsWith($"{temp.Root}: neither an IDX dataset (MNIST's file names: t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz], train-...) nor an image folder", e.Message);
        Assert.Contains("*.png, *.jpg", e.Message);
    }

    [Fact]
    public void A_missing_directory_is_named()
    {
        string missing = Path.Combine(Path.GetTempPath(), "cnnservice-no-such-dir-" + Guid.NewGuid().ToString("N"));

        var e = Assert.Throws<DatasetFormatException>(() => DatasetOpener.Open(missing, DatasetSplit.Test, null));

        Assert.Equal($"{missing}: no such dataset directory", e.Message);
    }

    [Fact]
    public void A_half_idx_directory_is_idx_and_its_error_is_the_engines()
    {
        using var temp = new TempFolder();
        temp.Write("t10k-images-idx3-ubyte.gz", File.ReadAllBytes(Path.Combine(Fixtures.MnistSmall, "t10k-images-idx3-ubyte.gz")));

        var e = Assert.Throws<DatasetFormatException>(() => DatasetOpener.Open(temp.Root, DatasetSplit.Test, null));

        Assert.Contains("no labels for the t10k split", e.Message);
    }
}
