using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using CnnService.Engine.Data;
using CnnService.Engine.Evaluation;
using CnnService.Engine.Runtime;
using CnnService.Imaging;

namespace CnnService.Cli;

/// <summary>
/// <c>cnn evaluate</c>: scores a model on a labelled dataset and prints its accuracy, loss,
/// per-class accuracy and confusion matrix.
/// </summary>
internal static class EvaluateCommand
{
    private static readonly OptionSpec Data = new("--data", TakesValue: true);
    private static readonly OptionSpec DataRoot = new("--data-root", TakesValue: true);
    private static readonly OptionSpec Split = new("--split", TakesValue: true);
    private static readonly OptionSpec Limit = new("--limit", TakesValue: true);
    private static readonly OptionSpec Batch = new("--batch", TakesValue: true);
    private static readonly OptionSpec Threads = new("--threads", TakesValue: true);
    private static readonly OptionSpec Json = new("--json", TakesValue: false);

    public static Command Definition { get; } = new(
        "evaluate",
        "score a model on a dataset: accuracy, loss, per-class accuracy, confusion matrix",
        $"""
        usage: cnn evaluate (--model DIR | --arch NAME) --data mnist|fashion-mnist|DIR
                            [--data-root DIR] [--split test|train] [--limit N] [--batch N]
                            [--threads T] [--json]

        Runs every image of a dataset split through the model, normalised as its {ModelLoader.SpecFile} says,
        and prints the accuracy (the largest output is the prediction), the mean cross-entropy
        loss of the outputs read as probabilities, each class's count and accuracy, and the
        confusion matrix (rows: actual class, columns: predicted class).

          --model DIR       a model directory holding {ModelLoader.SpecFile} and {ModelLoader.WeightsFile}
          --arch NAME       a built-in architecture with random weights, seed {ModelSource.ArchSeed} ({ModelSource.ArchNames})
          --data D          mnist or fashion-mnist (fetched by {DatasetCatalog.FetchScript} into data/), a directory
                            holding IDX files named like MNIST's (t10k-images-idx3-ubyte[.gz], ...), or an image
                            folder: DIR/<label>/ holding images (png, jpg, bmp, gif, webp), or DIR/test/<label>/
                            and DIR/train/<label>/; each image is decoded and preprocessed as the model's input says
          --data-root DIR   where mnist/ and fashion-mnist/ are (default: ${DatasetCatalog.DataRootVariable}, else the
                            nearest data/ folder above the current directory that holds the dataset)
          --split S         test (default; the t10k files, DIR/test/) or train
          --limit N         evaluate only the first N images
          --batch N         images per forward pass (default: {Evaluator.DefaultBatchSize})
          --threads T       threads per forward pass (default: {Environment.ProcessorCount}, the CPUs available)
          --json            print one JSON object instead of text: accuracy, count, correct, loss,
                            model, dataset, per_class (name, count, accuracy) and confusion
          -h, --help        show this help
        """,
        [ModelSource.ModelOption, ModelSource.ArchOption, Data, DataRoot, Split, Limit, Batch, Threads, Json],
        Run);

    private static int Run(ParsedArgs args, TextWriter stdout)
    {
        if (args.Positionals.Count > 0) throw new UsageException($"'cnn evaluate' takes no file arguments (got '{args.Positionals[0]}')");
        string data = args.Require(Data.Name);
        DatasetSplit split = ParseSplit(args.GetString(Split.Name));
        int limit = args.GetInt(Limit.Name, int.MaxValue, min: 1);
        int batch = args.GetInt(Batch.Name, Evaluator.DefaultBatchSize, min: 1, max: 1 << 20);
        int threads = args.GetInt(Threads.Name, Environment.ProcessorCount, min: 1, max: 1024);
        args.RequireExactlyOne(ModelSource.ModelOption.Name, ModelSource.ArchOption.Name);

        Model model = ModelSource.Load(args, EngineOptions.Default with { Threads = threads }, out string source);
        IDataset dataset = DatasetOpener.Open(data, split, args.GetString(DataRoot.Name), model.Spec.Input);
        if (limit < dataset.Count) dataset = DatasetSubset.First(dataset, limit);

        EvaluationResult result = Evaluator.Evaluate(model, dataset, batch);
        if (args.Has(Json.Name)) WriteJson(stdout, result, source, split);
        else WriteText(stdout, result, source);
        return ExitCodes.Ok;
    }

    private static DatasetSplit ParseSplit(string? text) => text switch
    {
        null or "test" => DatasetSplit.Test,
        "train" => DatasetSplit.Train,
        _ => throw new UsageException($"option --split must be test or train, got '{text}'"),
    };

    internal static void WriteText(TextWriter stdout, EvaluationResult r, string source)
    {
        stdout.WriteLine($"model        {r.ModelName}");
        stdout.WriteLine($"source       {source}");
        stdout.WriteLine($"dataset      {r.DatasetName}");
        stdout.WriteLine($"accuracy     {Percent(r.Accuracy)} ({r.Correct:N0} / {r.Count:N0})");
        stdout.WriteLine($"loss         {r.Loss.ToString("F4", CultureInfo.InvariantCulture)}");
        stdout.WriteLine();

        var perClass = new TextTable(("#", true), ("class", false), ("count", true), ("accuracy", true));
        for (int c = 0; c < r.PerClass.Count; c++)
        {
            ClassResult cr = r.PerClass[c];
            perClass.Add(I(c), cr.Name, I(cr.Count), cr.Count == 0 ? "-" : Percent(cr.Accuracy));
        }

        perClass.Write(stdout);
        stdout.WriteLine();

        // Columns by class number, so that long class names do not make the matrix unreadably wide.
        stdout.WriteLine("confusion matrix: rows are the actual class, columns the predicted class (#)");
        int n = r.Classes.Count;
        var columns = new (string, bool)[n + 1];
        columns[0] = ("actual", false);
        for (int c = 0; c < n; c++) columns[c + 1] = (I(c), true);
        var confusion = new TextTable(columns);
        for (int actual = 0; actual < n; actual++)
        {
            var cells = new string[n + 1];
            cells[0] = r.Classes[actual] == I(actual) ? I(actual) : $"{I(actual)} {r.Classes[actual]}";
            for (int predicted = 0; predicted < n; predicted++) cells[predicted + 1] = I(r.Confusion[actual, predicted]);
            confusion.Add(cells);
        }

        confusion.Write(stdout);
    }

    internal static void WriteJson(TextWriter stdout, EvaluationResult r, string source, DatasetSplit split)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("model", r.ModelName);
            json.WriteString("source", source);
            json.WriteString("dataset", r.DatasetName);
            json.WriteString("split", split == DatasetSplit.Train ? "train" : "test");
            json.WriteNumber("count", r.Count);
            json.WriteNumber("correct", r.Correct);
            json.WriteNumber("accuracy", r.Accuracy);
            json.WritePropertyName("loss");
            WriteNumber(json, r.Loss);
            json.WriteStartArray("per_class");
            foreach (ClassResult c in r.PerClass)
            {
                json.WriteStartObject();
                json.WriteString("name", c.Name);
                json.WriteNumber("count", c.Count);
                json.WriteNumber("correct", c.Correct);
                json.WritePropertyName("accuracy");
                WriteNumber(json, c.Accuracy);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("confusion");
            for (int actual = 0; actual < r.Classes.Count; actual++)
            {
                json.WriteStartArray();
                for (int predicted = 0; predicted < r.Classes.Count; predicted++) json.WriteNumberValue(r.Confusion[actual, predicted]);
                json.WriteEndArray();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        stdout.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    /// <summary>A fraction as a percentage with two decimals, e.g. "98.76 %".</summary>
    internal static string Percent(double fraction) => (fraction * 100).ToString("F2", CultureInfo.InvariantCulture) + " %";

    private static string I(int value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>JSON has no NaN: a class without items has a null accuracy, a NaN loss is null.</summary>
    private static void WriteNumber(Utf8JsonWriter json, double value)
    {
        if (double.IsFinite(value)) json.WriteNumberValue(value);
        else json.WriteNullValue();
    }
}
