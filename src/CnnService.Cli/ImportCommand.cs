using System.Globalization;
using CnnService.Engine.Format;
using CnnService.Engine.Onnx.Import;
using CnnService.Engine.Runtime;

namespace CnnService.Cli;

/// <summary>
/// <c>cnn import</c>: turns an ONNX file into a model version in the project's own format (model.json +
/// weights.safetensors), with what ONNX does not say taken from the config.json and labels.txt beside the
/// file and from the flags, the flags winning.
/// </summary>
internal static class ImportCommand
{
    private const long MaxLabelsBytes = 4L * 1024 * 1024;

    private static readonly OptionSpec Out = new("--out", TakesValue: true);
    private static readonly OptionSpec Labels = new("--labels", TakesValue: true);
    private static readonly OptionSpec Name = new("--name", TakesValue: true);
    private static readonly OptionSpec Color = new("--color", TakesValue: true);
    private static readonly OptionSpec Scale = new("--scale", TakesValue: true);
    private static readonly OptionSpec Mean = new("--mean", TakesValue: true);
    private static readonly OptionSpec Std = new("--std", TakesValue: true);

    public static Command Definition { get; } = new(
        "import",
        "turn an ONNX file into a model version (model.json + weights.safetensors)",
        $"""
        usage: cnn import FILE.onnx --out DIR [--labels FILE] [--name NAME]
                          [--color grayscale|rgb|none] [--scale S] [--mean A,B,C] [--std A,B,C]

        Converts an ONNX image classifier (one FLOAT input [N, C, H, W], one output) into the
        project's own format and writes DIR ({ModelLoader.SpecFile} and {ModelLoader.WeightsFile}) atomically.
        Constant subgraphs are folded; every op that computes per image becomes a layer, and an op
        that has none is refused by name. What ONNX does not carry is read from {OnnxConfig.ConfigFile} and
        {OnnxConfig.LabelsFile} beside FILE when present (as 'cnn export' writes them), then from the
        flags, which win. Without any: grayscale for 1 channel, rgb for 3, scale 1/255, mean 0, std 1.

          --out DIR        the new model version, e.g. models/resnet/1 (must not exist)
          --labels FILE    class names, one per line, in output order
          --name NAME      the model's name (default: the graph's name)
          --color MODE     how an image becomes the input: grayscale, rgb or none (a raw tensor)
          --scale S        pixel multiplier before mean and std (e.g. 0.00392156862 = 1/255)
          --mean A,B,C     subtracted per channel after scaling (one value for all channels, or one each)
          --std A,B,C      divided by per channel after the mean (non-zero)
          -h, --help       show this help
        """,
        [Out, Labels, Name, Color, Scale, Mean, Std],
        Run);

    private static int Run(ParsedArgs args, TextWriter stdout)
    {
        if (args.Positionals.Count != 1)
            throw new UsageException(args.Positionals.Count == 0 ? "'cnn import' needs the ONNX file to import (see 'cnn import --help')" : $"'cnn import' takes one ONNX file, got {args.Positionals.Count}");
        string file = args.Positionals[0];
        string output = args.Require(Out.Name);
        OnnxImportOptions options = Options(args);
        if (!File.Exists(file)) throw new CliException($"{file}: no such file.");
        if (Directory.Exists(output) || File.Exists(output))
            throw new CliException($"{output} already exists: a model version is never overwritten; choose a new version.");

        // The folder's config.json and labels.txt first, then the flags over them.
        OnnxImportOptions beside = OnnxConfig.Load(Path.GetDirectoryName(Path.GetFullPath(file))!);
        options = beside with
        {
            Name = options.Name ?? beside.Name,
            Labels = options.Labels.Count > 0 ? options.Labels : beside.Labels,
            Color = options.Color ?? beside.Color,
            Scale = options.Scale ?? beside.Scale,
            Mean = options.Mean ?? beside.Mean,
            Std = options.Std ?? beside.Std,
        };

        (ModelSpec spec, WeightSet weights) = OnnxImporter.Import(file, options);
        ModelWriter.Write(output, spec, weights.AllFloat32());
        Model model = ModelLoader.Load(output, EngineOptions.Default with { Threads = 1 });
        string labels = spec.Labels.Count == 0 ? "no labels" : $"{spec.Labels.Count} labels";
        stdout.WriteLine($"wrote {output}: {spec.Name}, {spec.Layers.Count} layers, input {model.InputShape} {spec.Input.Color.ToString().ToLowerInvariant()}, output {model.OutputShape}, {labels}");
        return ExitCodes.Ok;
    }

    private static OnnxImportOptions Options(ParsedArgs args) => new()
    {
        Name = args.GetString(Name.Name),
        Labels = args.GetString(Labels.Name) is string labels ? ReadLabels(labels) : [],
        Color = args.GetString(Color.Name) switch
        {
            null => null,
            "grayscale" => ColorMode.Grayscale,
            "rgb" => ColorMode.Rgb,
            "none" => ColorMode.None,
            var other => throw new UsageException($"option --color must be grayscale, rgb or none, got '{other}'"),
        },
        Scale = args.Has(Scale.Name) ? (float)args.GetDouble(Scale.Name, 1, 0, minExclusive: true, max: float.MaxValue) : null,
        Mean = Numbers(args, Mean.Name, allowZero: true),
        Std = Numbers(args, Std.Name, allowZero: false),
    };

    private static float[]? Numbers(ParsedArgs args, string option, bool allowZero)
    {
        if (args.GetString(option) is not string text) return null;
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new float[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !float.IsFinite(values[i]) || (!allowZero && values[i] == 0))
                throw new UsageException($"option {option} must be {(allowZero ? "" : "non-zero ")}numbers separated by commas, got '{text}'");
        }

        return values;
    }

    private static string[] ReadLabels(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new CliException($"{path}: no such labels file.");
        if (info.Length > MaxLabelsBytes) throw new CliException($"{path}: {info.Length:N0} bytes; a labels file is at most {MaxLabelsBytes / 1024 / 1024} MiB.");
        string[] lines = File.ReadAllText(path).Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        int count = lines.Length;
        while (count > 0 && lines[count - 1].Length == 0) count--; // a trailing newline is not a label
        return lines[..count];
    }
}
