using CnnService.Engine.Data;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Imaging;
using CnnService.Tests.Imaging.Support;
using CnnService.Tests.Support;

namespace CnnService.Tests.Imaging;

public sealed class ImageFolderDatasetTests
{
    private static InputSpec Input => MnistModel.MnistInput;

    [Fact]
    public void Classes_are_the_folders_in_ordinal_order_and_files_are_read_in_name_order()
    {
        using var temp = new TempFolder();
        temp.Copy("photo-2.png", "seven/b.png"); // the file names do not matter: the folder is the label
        temp.Copy("photo-7.gif", "seven/a.gif");
        temp.Copy("photo-1.jpg", "One/x.jpg");
        temp.Copy("photo-0.png", "10/y.PNG");
        temp.Write("seven/notes.txt", "not an image"u8.ToArray());
        temp.Copy("photo-0.png", "seven/.hidden.png");
        temp.Copy("photo-0.png", ".git/z.png");

        ImageFolderDataset data = ImageFolderDataset.Open(temp.Root, DatasetSplit.Test, Input);

        Assert.Equal(["10", "One", "seven"], data.Classes);
        Assert.Equal(4, data.Count);
        Assert.Equal(new TensorShape(1, 28, 28), data.Shape);
        Assert.Equal([0, 1, 2, 2], Enumerable.Range(0, 4).Select(data.Label));
        Assert.Equal(["y.PNG", "x.jpg", "a.gif", "b.png"], Enumerable.Range(0, 4).Select(i => Path.GetFileName(data.FileOf(i))));
        Assert.True(data.SplitsShareImages);
        Assert.EndsWith("(all images)", data.Name);
    }

    [Fact]
    public void Items_hold_the_raw_pixels_the_preprocessor_gives()
    {
        using var temp = new TempFolder();
        temp.Copy("photo-5.jpg", "5/a.jpg");
        temp.Copy("photo-8.bmp", "8/a.bmp");

        ImageFolderDataset data = ImageFolderDataset.Open(temp.Root, DatasetSplit.Train, Input, threads: 2);

        var item = new float[784];
        var expected = new float[784];
        foreach ((int index, string file) in new[] { (0, "photo-5.jpg"), (1, "photo-8.bmp") })
        {
            data.CopyPixels(index, item);
            ImagePreprocessor.ToPixels(ImageFixtures.Read(file), Input, ImageLimits.Default, expected);
            Assert.Equal(expected, item);
        }
    }

    [Fact]
    public void The_shipped_model_scores_an_image_folder_of_the_photos()
    {
        using var temp = new TempFolder();
        foreach (ImageFixtures.Photo photo in ImageFixtures.Photos) temp.Copy(photo.File, $"{photo.Label}/{photo.File}");

        ImageFolderDataset data = ImageFolderDataset.Open(temp.Root, DatasetSplit.Test, Input);
        var result = CnnService.Engine.Evaluation.Evaluator.Evaluate(MnistModel.Model, data);

        Assert.Equal(10, result.Count);
        Assert.True(result.Correct >= 9, $"{result.Correct} of 10");
    }

    [Fact]
    public void The_split_layout_reads_train_and_test_with_the_same_classes()
    {
        using var temp = new TempFolder();
        temp.Copy("photo-0.png", "train/cat/1.png");
        temp.Copy("photo-1.jpg", "train/dog/1.jpg");
        temp.Copy("photo-2.png", "train/dog/2.png");
        temp.Copy("photo-3-exif6.jpg", "test/dog/1.jpg"); // test has no cat, and an eel train lacks
        temp.Copy("photo-4.png", "test/eel/1.png");

        ImageFolderDataset train = ImageFolderDataset.Open(temp.Root, DatasetSplit.Train, Input);
        ImageFolderDataset test = ImageFolderDataset.Open(temp.Root, DatasetSplit.Test, Input);

        Assert.Equal(["cat", "dog", "eel"], train.Classes);
        Assert.Equal(["cat", "dog", "eel"], test.Classes);
        Assert.Equal([0, 1, 1], Enumerable.Range(0, train.Count).Select(train.Label));
        Assert.Equal([1, 2], Enumerable.Range(0, test.Count).Select(test.Label));
        Assert.False(train.SplitsShareImages);
        Assert.EndsWith("(train)", train.Name);
        Assert.EndsWith("(test)", test.Name);
    }

    [Fact]
    public void A_missing_split_folder_is_named()
    {
        using var temp = new TempFolder();
        temp.Copy("photo-0.png", "train/cat/1.png");

        var e = Assert.Throws<DatasetFormatException>(() => ImageFolderDataset.Open(temp.Root, DatasetSplit.Test, Input));

        Assert.StartsWith($"{temp.Root}: has train/ but no test/ folder", e.Message);
    }

    [Fact]
    public void A_bad_file_fails_the_open_and_is_named()
    {
        using var temp = new TempFolder();
        for (int i = 0; i < 6; i++) temp.Copy("photo-0.png", $"a/{i}.png");
        string bad = temp.Copy(ImageFixtures.Truncated, "b/0.png");
        temp.Write("b/1.png", "text"u8.ToArray());

        var e = Assert.Throws<DatasetFormatException>(() => ImageFolderDataset.Open(temp.Root, DatasetSplit.Test, Input, threads: 2));

        Assert.StartsWith($"{bad}: PNG file is truncated", e.Message);
    }

    [Fact]
    public void A_folder_without_images_says_what_it_looked_for()
    {
        using var temp = new TempFolder();
        temp.Write("a/readme.txt", "x"u8.ToArray());

        var e = Assert.Throws<DatasetFormatException>(() => ImageFolderDataset.Open(temp.Root, DatasetSplit.Test, Input));

        Assert.Equal($"{temp.Root}: no images; expected *.png, *.jpg, *.jpeg, *.bmp, *.gif, *.webp files in a folder per class ({temp.Root}/<label>/)", e.Message);
    }

    [Fact]
    public void A_model_that_takes_no_images_cannot_read_one()
    {
        using var temp = new TempFolder();
        temp.Copy("photo-0.png", "a/0.png");
        var input = new InputSpec { Channels = 3, Height = 1, Width = 1, Mean = [0, 0, 0], Std = [1, 1, 1] };

        var e = Assert.Throws<DatasetFormatException>(() => ImageFolderDataset.Open(temp.Root, DatasetSplit.Test, input));

        Assert.Contains("the model takes no images", e.Message);
    }

    [Fact]
    public void Rgb_items_are_three_planes()
    {
        using var temp = new TempFolder();
        temp.Copy("photo-9.jpg", "a/0.jpg");
        var input = new InputSpec { Channels = 3, Height = 16, Width = 12, Color = ColorMode.Rgb, Mean = [0, 0, 0], Std = [1, 1, 1] };

        ImageFolderDataset data = ImageFolderDataset.Open(temp.Root, DatasetSplit.Test, input);

        Assert.Equal(new TensorShape(3, 16, 12), data.Shape);
        var item = new float[3 * 16 * 12];
        data.CopyPixels(0, item);
        // Warm paper: red above green above blue in the top-left corner.
        Assert.True(item[0] > item[192] && item[192] > item[384], $"{item[0]}, {item[192]}, {item[384]}");
    }
}
