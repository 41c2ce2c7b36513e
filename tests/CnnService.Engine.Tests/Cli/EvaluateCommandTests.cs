using System.Globalization;
using System.Text.Json;
using CnnService.Cli;
using CnnService.Engine.Data;
using CnnService.Engine.Evaluation;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Cli;

public class EvaluateCommandTests
{
    [Fact]
    public void Evaluate_prints_the_accuracy_as_a_percentage_with_correct_over_count_and_the_loss()
    {
        using var temp = new TempModel();
        EvaluationResult expected = Evaluator.Evaluate(temp.Model, DatasetSubset.First(IdxDataset.Open(Fixtures.MnistSmall, DatasetSplit.Test), 200));

        CliResult r = Cnn.Run("evaluate", "--model", temp.ModelDir, "--data", Fixtures.MnistSmall, "--limit", "200", "--threads", "1");

        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        string percent = (expected.Accuracy * 100).ToString("F2", CultureInfo.InvariantCulture);
        Assert.Contains($"accuracy     {percent} % ({expected.Correct} / 200)", r.StdoutLines);
        Assert.Contains($"loss         {expected.Loss.ToString("F4", CultureInfo.InvariantCulture)}", r.StdoutLines);
        Assert.Contains("dataset      mnist-small (t10k), first 200", r.StdoutLines);
    }

    [Fact]
    public void Evaluate_prints_a_per_class_table_and_the_confusion_matrix_with_class_labels()
    {
        using var temp = new TempModel();
        using var data = new TempDir();
        Fixtures.CopyTo(Fixtures.FashionMnistSmall, data.PathOf("fashion-mnist"));

        CliResult r = Cnn.Run("evaluate", "--model", temp.ModelDir, "--data", "fashion-mnist", "--data-root", data.Root, "--limit", "100");

        Assert.Equal(0, r.ExitCode);
        string[] lines = r.StdoutLines;
        int table = Array.FindIndex(lines, l => l.StartsWith("#  class", StringComparison.Ordinal));
        Assert.Equal(["#", "class", "count", "accuracy"], lines[table].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("9  Ankle boot", lines[table + 11]);
        int matrix = Array.IndexOf(lines, "confusion matrix: rows are the actual class, columns the predicted class (#)");
        Assert.Equal(["actual", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], lines[matrix + 1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("0 T-shirt/top", lines[matrix + 3]);
        Assert.StartsWith("9 Ankle boot", lines[matrix + 12]);
        Assert.Equal(matrix + 13, lines.Length);
    }

    [Fact]
    public void Evaluate_names_the_classes_by_the_models_labels_when_the_dataset_directory_has_none()
    {
        // A directory of IDX files knows its classes only as "0".."9"; the shipped model knows their names.
        CliResult r = Cnn.Run("evaluate", "--model", Path.Combine(Fixtures.Models, "fashion-mnist", "1"),
            "--data", Fixtures.FashionMnistSmall, "--limit", "50", "--threads", "1", "--json");

        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal(
            ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
            doc.RootElement.GetProperty("per_class").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
    }

    [Fact]
    public void Evaluate_json_prints_one_object_with_accuracy_count_per_class_and_confusion()
    {
        using var temp = new TempModel();
        using var data = new TempDir();
        Fixtures.CopyTo(Fixtures.MnistSmall, data.PathOf("mnist"));

        CliResult r = Cnn.Run("evaluate", "--model", temp.ModelDir, "--data", "mnist", "--data-root", data.Root, "--json");

        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(Assert.Single(r.StdoutLines));
        JsonElement root = doc.RootElement;
        Assert.Equal(1000, root.GetProperty("count").GetInt32());
        int correct = root.GetProperty("correct").GetInt32();
        Assert.Equal(correct / 1000.0, root.GetProperty("accuracy").GetDouble());
        Assert.Equal(JsonValueKind.Number, root.GetProperty("loss").ValueKind);
        Assert.Equal("mnist", root.GetProperty("model").GetString());
        Assert.Equal("mnist (t10k)", root.GetProperty("dataset").GetString());
        JsonElement[] perClass = root.GetProperty("per_class").EnumerateArray().ToArray();
        Assert.Equal(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], perClass.Select(c => c.GetProperty("name").GetString()));
        Assert.Equal([85, 126, 116, 107, 110, 87, 87, 99, 89, 94], perClass.Select(c => c.GetProperty("count").GetInt32()));
        int[][] confusion = root.GetProperty("confusion").EnumerateArray().Select(row => row.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();
        Assert.Equal(10, confusion.Length);
        Assert.All(confusion, row => Assert.Equal(10, row.Length));
        Assert.Equal(1000, confusion.Sum(row => row.Sum()));
        Assert.Equal(correct, Enumerable.Range(0, 10).Sum(i => confusion[i][i]));
    }

    [Fact]
    public void Evaluate_split_train_reads_the_training_files()
    {
        CliResult r = Cnn.Run("evaluate", "--arch", "lenet5", "--data", Fixtures.MnistSmall, "--split", "train", "--json");

        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(Assert.Single(r.StdoutLines));
        Assert.Equal(2000, doc.RootElement.GetProperty("count").GetInt32());
        Assert.Equal("mnist-small (train)", doc.RootElement.GetProperty("dataset").GetString());
    }

    [Fact]
    public void Evaluate_of_a_missing_data_directory_fails_with_exit_1_and_one_line()
    {
        using var temp = new TempDir();
        CliResult r = Cnn.Run("evaluate", "--arch", "keras-mnist", "--data", temp.PathOf("nope"));

        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"cnn: {temp.PathOf("nope")}: no such dataset directory", r.Error);
    }

    [Fact]
    public void Evaluate_of_a_known_dataset_not_yet_fetched_says_how_to_fetch_it()
    {
        using var temp = new TempDir();
        CliResult r = Cnn.Run("evaluate", "--arch", "keras-mnist", "--data", "mnist", "--data-root", temp.Root);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("fetch it with 'scripts/fetch-data.sh mnist'", r.Error);
    }

    [Fact]
    public void Evaluate_of_a_corrupt_dataset_file_fails_with_exit_1_naming_it()
    {
        using var temp = new TempDir();
        Fixtures.CopyTo(Fixtures.MnistSmall, temp.Root);
        temp.WriteFile("t10k-labels-idx1-ubyte", [0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0]);

        CliResult r = Cnn.Run("evaluate", "--arch", "keras-mnist", "--data", temp.Root);

        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"cnn: {temp.PathOf("t10k-labels-idx1-ubyte")}: unsupported element type 0x0d (float32); only unsigned bytes (0x08) are supported", r.Error);
    }

    [Fact]
    public void Evaluate_of_a_model_that_takes_another_shape_fails_with_exit_1()
    {
        CliResult r = Cnn.Run("evaluate", "--arch", "tinyvgg", "--data", Fixtures.MnistSmall, "--limit", "5");

        Assert.Equal(1, r.ExitCode);
        Assert.Equal("cnn: mnist-small (t10k), first 5: items are [1,28,28], but model 'tinyvgg' takes [3,64,64].", r.Error);
    }

    [Theory]
    [InlineData("cnn: 'cnn evaluate' needs --data (see 'cnn evaluate --help')", "--arch", "keras-mnist")]
    [InlineData("cnn: option --split must be test or train, got 'valid'", "--arch", "keras-mnist", "--data", "mnist", "--split", "valid")]
    [InlineData("cnn: option --limit must be an integer at least 1, got '0'", "--arch", "keras-mnist", "--data", "mnist", "--limit", "0")]
    [InlineData("cnn: option --batch must be an integer from 1 to 1048576, got 'many'", "--arch", "keras-mnist", "--data", "mnist", "--batch", "many")]
    [InlineData("cnn: 'cnn evaluate' needs --model or --arch (see 'cnn evaluate --help')", "--data", "mnist")]
    [InlineData("cnn: 'cnn evaluate' takes no file arguments (got 'extra')", "--arch", "keras-mnist", "--data", "mnist", "extra")]
    public void Evaluate_usage_errors_exit_2_with_one_line(string message, params string[] args)
    {
        CliResult r = Cnn.Run(["evaluate", .. args]);

        Assert.Equal(2, r.ExitCode);
        Assert.Equal(message, r.Error);
    }
}
