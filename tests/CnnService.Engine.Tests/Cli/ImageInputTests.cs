using System.Text.Json;
using CnnService.Cli;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Cli;

/// <summary><c>cnn predict</c> on image files, and <c>cnn evaluate</c> / <c>cnn train</c> on image folders.</summary>
public class ImageInputTests
{
    private static string MnistModel => Path.Combine(Fixtures.Models, "mnist", "2");

    private static string Image(string name) => Path.Combine(Fixtures.Root, "images", name);

    /// <summary>The photo-like digit fixtures: file name and label.</summary>
    private static readonly (string File, string Label)[] Photos =
    [
        ("photo-0.png", "0"), ("photo-1.jpg", "1"), ("photo-2.png", "2"), ("photo-3-exif6.jpg", "3"), ("photo-4.png", "4"),
        ("photo-5.jpg", "5"), ("photo-6.webp", "6"), ("photo-7.gif", "7"), ("photo-8.bmp", "8"), ("photo-9.jpg", "9"),
    ];

    private static string TopLabel(string line) =>
        JsonDocument.Parse(line).RootElement.GetProperty("top")[0].GetProperty("label").GetString()!;

    /// <summary>Copies the photos into <c>root/&lt;label&gt;/</c>.</summary>
    private static void WriteImageFolder(string root)
    {
        foreach ((string file, string label) in Photos)
        {
            Directory.CreateDirectory(Path.Combine(root, label));
            File.Copy(Image(file), Path.Combine(root, label, file));
        }
    }

    [Fact]
    public void Predict_reads_a_photo_png_and_prints_its_digit()
    {
        CliResult r = Cnn.Run("predict", "--model", MnistModel, "--threads", "1", Image("photo-0.png"));

        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        Assert.Equal("0", TopLabel(Assert.Single(r.StdoutLines)));
    }

    [Fact]
    public void Predict_reads_every_image_format_one_line_each_in_order()
    {
        CliResult r = Cnn.Run(["predict", "--model", MnistModel, "--threads", "1", "--top", "1", .. Photos.Select(p => Image(p.File))]);

        Assert.Equal(0, r.ExitCode);
        string[] labels = r.StdoutLines.Select(TopLabel).ToArray();
        Assert.Equal(Photos.Length, labels.Length);
        int correct = labels.Zip(Photos, (got, photo) => got == photo.Label ? 1 : 0).Sum();
        Assert.True(correct >= 9, $"read as {string.Join(", ", labels)}");
    }

    [Fact]
    public void An_image_is_told_by_its_bytes_not_its_name()
    {
        using var temp = new TempDir();
        string unnamed = temp.WriteFile("scan", File.ReadAllBytes(Image("photo-7.gif")));
        string misnamed = temp.WriteFile("digit.npy", File.ReadAllBytes(Image("photo-2.png")));

        CliResult r = Cnn.Run("predict", "--model", MnistModel, "--threads", "1", unnamed, misnamed);

        Assert.Equal(0, r.ExitCode);
        Assert.Equal(["7", "2"], r.StdoutLines.Select(TopLabel));
    }

    [Fact]
    public void Npy_files_and_images_mix_in_the_order_given()
    {
        using var temp = new TempDir();
        Model model = ModelLoader.Load(MnistModel, new EngineOptions { Threads = 1 });
        float[] twoInputs = TempModel.RandomInput(2 * 784, seed: 3);
        string npy = temp.PathOf("two.npy");
        NpyWriter.Write(npy, twoInputs, 2, 1, 28, 28);
        var expected = new float[20];
        model.Forward(twoInputs, expected, 2);

        CliResult r = Cnn.Run("predict", "--model", MnistModel, "--threads", "1", Image("photo-4.png"), npy, Image("photo-9.jpg"));

        Assert.Equal(0, r.ExitCode);
        Assert.Equal(4, r.StdoutLines.Length);
        Assert.Equal("4", TopLabel(r.StdoutLines[0]));
        Assert.Equal(expected[..10], Outputs(r.StdoutLines[1]));
        Assert.Equal(expected[10..], Outputs(r.StdoutLines[2]));
        Assert.Equal("9", TopLabel(r.StdoutLines[3]));
    }

    [Fact]
    public void A_broken_image_fails_before_anything_is_printed_naming_the_file()
    {
        string truncated = Image("truncated.png");

        CliResult r = Cnn.Run("predict", "--model", MnistModel, Image("photo-0.png"), truncated);

        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith($"cnn: {truncated}: PNG file is truncated: its data ends", r.Error);
    }

    [Fact]
    public void A_gif_bomb_is_refused_from_its_header()
    {
        string bomb = Image("gif-bomb.gif");

        CliResult r = Cnn.Run("predict", "--model", MnistModel, bomb);

        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"cnn: {bomb}: GIF header says 65535 x 65535 pixels; the limit is 16,777,216", r.Error);
    }

    [Fact]
    public void A_file_that_is_neither_says_so()
    {
        using var temp = new TempDir();
        string text = temp.WriteFile("notes.txt", "not an input"u8.ToArray());

        CliResult r = Cnn.Run("predict", "--model", MnistModel, text);

        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith($"cnn: {text}: not a NumPy .npy file", r.Error);
        Assert.EndsWith("; nor is it a PNG, JPEG, GIF, BMP or WebP image", r.Error);
    }

    [Fact]
    public void Evaluate_scores_an_image_folder()
    {
        using var temp = new TempDir();
        WriteImageFolder(temp.PathOf("photos"));

        CliResult r = Cnn.Run("evaluate", "--model", MnistModel, "--data", temp.PathOf("photos"), "--threads", "1", "--json");

        Assert.Equal(0, r.ExitCode);
        JsonElement json = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.Equal(10, json.GetProperty("count").GetInt32());
        Assert.True(json.GetProperty("correct").GetInt32() >= 9, r.Stdout);
        Assert.Equal("photos (all images)", json.GetProperty("dataset").GetString());
    }

    [Fact]
    public void Evaluate_of_a_directory_that_is_no_dataset_says_what_it_looked_for()
    {
        using var temp = new TempDir();
        temp.WriteFile("readme.txt", "x"u8.ToArray());

        CliResult r = Cnn.Run("evaluate", "--model", MnistModel, "--data", temp.Root);

        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith($"cnn: {temp.Root}: neither an IDX dataset", r.Error);
    }

    [Fact]
    public void Train_reads_an_image_folder_with_train_and_test_splits_and_labels_the_model_with_its_folders()
    {
        using var temp = new TempDir();
        WriteImageFolder(temp.PathOf("digits/train"));
        WriteImageFolder(temp.PathOf("digits/test"));
        string output = temp.PathOf("models/photos/1");

        CliResult r = Cnn.Run("train", "--arch", "keras-mnist", "--data", temp.PathOf("digits"), "--epochs", "1", "--batch-size", "5",
            "--threads", "1", "--out", output);

        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        Assert.DoesNotContain(r.StdoutLines, l => l.StartsWith("note:", StringComparison.Ordinal));
        Model model = ModelLoader.Load(output);
        Assert.Equal(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], model.Labels);
        Assert.Equal(10, (int)model.Spec.Metrics!["train_count"]!);
        Assert.Equal(10, (int)model.Spec.Metrics!["test_count"]!);
    }

    [Fact]
    public void Train_on_a_folder_without_splits_says_the_test_accuracy_is_on_the_training_images()
    {
        using var temp = new TempDir();
        WriteImageFolder(temp.PathOf("digits"));

        CliResult r = Cnn.Run("train", "--arch", "keras-mnist", "--data", temp.PathOf("digits"), "--epochs", "1", "--threads", "1",
            "--out", temp.PathOf("m/1"));

        Assert.Equal(0, r.ExitCode);
        Assert.Equal($"note: {temp.PathOf("digits")} has no train/ and test/ folders, so the test accuracy is measured on the training images", r.StdoutLines[0]);
    }

    private static float[] Outputs(string line) =>
        JsonDocument.Parse(line).RootElement.GetProperty("probabilities").EnumerateArray().Select(e => e.GetSingle()).ToArray();
}
