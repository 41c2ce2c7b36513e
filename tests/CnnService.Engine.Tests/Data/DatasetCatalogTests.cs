using CnnService.Engine.Data;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Data;

public class DatasetCatalogTests
{
    [Fact]
    public void Mnist_classes_are_the_ten_digits()
    {
        Assert.Equal(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], DatasetCatalog.ClassesOf("mnist"));
    }

    [Fact]
    public void Fashion_mnist_classes_are_zalandos_names_in_label_order()
    {
        Assert.Equal(
            ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
            DatasetCatalog.ClassesOf("fashion-mnist"));
    }

    [Fact]
    public void Anything_but_a_known_name_is_a_directory_taken_as_given()
    {
        Assert.Null(DatasetCatalog.ClassesOf("./mnist"));
        Assert.Equal("./mnist", DatasetCatalog.DirectoryOf("./mnist", dataRoot: null, environmentRoot: "/env", currentDirectory: "/"));
    }

    [Fact]
    public void A_known_name_opens_under_the_given_data_root_with_its_class_names()
    {
        using var temp = new TempDir();
        Fixtures.CopyTo(Fixtures.FashionMnistSmall, Path.Combine(temp.Path, "fashion-mnist"));

        IDataset data = DatasetCatalog.Open("fashion-mnist", DatasetSplit.Test, temp.Path);

        Assert.Equal("fashion-mnist (t10k)", data.Name);
        Assert.Equal(1000, data.Count);
        Assert.Equal("Ankle boot", data.Classes[data.Label(0)]);
    }

    [Fact]
    public void The_given_data_root_wins_over_the_environment_variable()
    {
        using var temp = new TempDir();
        Directory.CreateDirectory(temp.File("given/mnist"));
        Directory.CreateDirectory(temp.File("env/mnist"));

        string directory = DatasetCatalog.DirectoryOf("mnist", temp.File("given"), temp.File("env"), temp.Path);

        Assert.Equal(Path.Combine(temp.File("given"), "mnist"), directory);
    }

    [Fact]
    public void The_environment_variable_is_the_data_root_when_none_is_given()
    {
        using var temp = new TempDir();
        Directory.CreateDirectory(temp.File("env/mnist"));
        Directory.CreateDirectory(temp.File("data/mnist"));

        string directory = DatasetCatalog.DirectoryOf("mnist", null, temp.File("env"), temp.Path);

        Assert.Equal(Path.Combine(temp.File("env"), "mnist"), directory);
    }

    [Fact]
    public void Without_either_the_nearest_ancestor_data_folder_holding_the_dataset_is_found()
    {
        using var temp = new TempDir();
        Directory.CreateDirectory(temp.File("data/mnist"));
        Directory.CreateDirectory(temp.File("src/deep/er/data/fashion-mnist"));   // a data/ folder without mnist is passed over

        string directory = DatasetCatalog.DirectoryOf("mnist", null, null, temp.File("src/deep/er"));

        Assert.Equal(Path.Combine(temp.File("data"), "mnist"), directory);
    }

    [Fact]
    public void A_known_name_whose_folder_is_missing_says_how_to_fetch_it()
    {
        using var temp = new TempDir();

        var e = Assert.Throws<DatasetFormatException>(() => DatasetCatalog.DirectoryOf("fashion-mnist", null, null, temp.Path));

        string expected = Path.Combine(temp.Path, "data", "fashion-mnist");
        Assert.StartsWith($"{expected}: the fashion-mnist dataset is not there; fetch it with 'scripts/fetch-data.sh fashion-mnist' from the repository root", e.Message);
    }
}
