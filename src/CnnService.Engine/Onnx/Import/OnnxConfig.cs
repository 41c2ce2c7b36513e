using System.Text.Json;
using CnnService.Engine.Format;

namespace CnnService.Engine.Onnx.Import;

/// <summary>
/// The optional files beside a version folder's <c>model.onnx</c> that say what ONNX does not:
/// <c>config.json</c> (<c>name</c>, <c>description</c>, <c>labels</c>, and <c>input</c> with <c>color</c>,
/// <c>scale</c>, <c>mean</c>, <c>std</c>, <c>height</c>, <c>width</c>) and <c>labels.txt</c> (one label per line).
/// </summary>
public static class OnnxConfig
{
    public const string ConfigFile = "config.json";
    public const string LabelsFile = "labels.txt";

    private const long MaxBytes = 4L * 1024 * 1024;

    /// <summary>The options the folder's files give, or the defaults when there are none.</summary>
    public static OnnxImportOptions Load(string directory)
    {
        var options = new OnnxImportOptions();
        string configPath = Path.Combine(directory, ConfigFile), labelsPath = Path.Combine(directory, LabelsFile);
        if (File.Exists(configPath)) options = Parse(ReadText(configPath), configPath);
        if (File.Exists(labelsPath))
        {
            if (options.Labels.Count > 0) throw new ModelFormatException($"{labelsPath}: labels are given twice, here and in {ConfigFile}; keep one.");
            string[] labels = ReadText(labelsPath).Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
            int count = labels.Length;
            while (count > 0 && labels[count - 1].Length == 0) count--; // a trailing newline is not a label
            options = options with { Labels = labels[..count] };
        }

        return options;
    }

    public static OnnxImportOptions Parse(string json, string fileName)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = 16 }); }
        catch (JsonException e) { throw new ModelFormatException($"{fileName}: not valid JSON: {e.Message}", e); }

        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new ModelFormatException($"{fileName}: must be a JSON object.");
            var options = new OnnxImportOptions();
            foreach (JsonProperty p in root.EnumerateObject())
            {
                options = p.Name switch
                {
                    "name" => options with { Name = Text(p.Value, fileName, "name") },
                    "description" => options with { Description = Text(p.Value, fileName, "description") },
                    "labels" => options with { Labels = Strings(p.Value, fileName) },
                    "input" => Input(options, p.Value, fileName),
                    _ => throw new ModelFormatException($"{fileName}: unknown key \"{p.Name}\" (known: name, description, labels, input)."),
                };
            }

            return options;
        }
    }

    private static OnnxImportOptions Input(OnnxImportOptions options, JsonElement input, string file)
    {
        if (input.ValueKind != JsonValueKind.Object) throw new ModelFormatException($"{file}: \"input\" must be an object.");
        int? height = null, width = null;
        foreach (JsonProperty p in input.EnumerateObject())
        {
            JsonElement v = p.Value;
            switch (p.Name)
            {
                case "color":
                    options = options with
                    {
                        Color = Text(v, file, "input.color") switch
                        {
                            "grayscale" => ColorMode.Grayscale,
                            "rgb" => ColorMode.Rgb,
                            "none" => ColorMode.None,
                            var other => throw new ModelFormatException($"{file}: \"input.color\" must be \"grayscale\", \"rgb\" or \"none\", got \"{other}\"."),
                        },
                    };
                    break;
                case "scale": options = options with { Scale = Number(v, file, "input.scale") }; break;
                case "mean": options = options with { Mean = Numbers(v, file, "input.mean") }; break;
                case "std":
                    float[] std = Numbers(v, file, "input.std");
                    options = std.Any(s => s == 0) ? throw new ModelFormatException($"{file}: \"input.std\" must not be zero.") : options with { Std = std };
                    break;
                case "preprocess": options = options with { Preprocess = Text(v, file, "input.preprocess") }; break;
                case "height": height = Size(v, file, "input.height"); break;
                case "width": width = Size(v, file, "input.width"); break;
                default: throw new ModelFormatException($"{file}: unknown key \"input.{p.Name}\" (known: color, scale, mean, std, preprocess, height, width).");
            }
        }

        if (height is null != width is null) throw new ModelFormatException($"{file}: give both \"input.height\" and \"input.width\", or neither.");
        return height is int h ? options with { InputSize = (h, width!.Value) } : options;
    }

    private static string ReadText(string path)
    {
        var info = new FileInfo(path);
        if (info.Length > MaxBytes) throw new ModelFormatException($"{path}: {info.Length} bytes; the limit is {MaxBytes / 1024 / 1024} MiB.");
        return File.ReadAllText(path);
    }

    private static string Text(JsonElement v, string file, string key) =>
        v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new ModelFormatException($"{file}: \"{key}\" must be a string.");

    private static string[] Strings(JsonElement v, string file) =>
        v.ValueKind == JsonValueKind.Array && v.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String)
            ? v.EnumerateArray().Select(e => e.GetString()!).ToArray()
            : throw new ModelFormatException($"{file}: \"labels\" must be an array of strings.");

    private static float Number(JsonElement v, string file, string key) =>
        v.ValueKind == JsonValueKind.Number && v.TryGetSingle(out float f) && float.IsFinite(f) ? f : throw new ModelFormatException($"{file}: \"{key}\" must be a finite number.");

    private static float[] Numbers(JsonElement v, string file, string key) => v.ValueKind switch
    {
        JsonValueKind.Number => [Number(v, file, key)],
        JsonValueKind.Array when v.GetArrayLength() is > 0 and <= 4096 => v.EnumerateArray().Select(e => Number(e, file, key)).ToArray(),
        _ => throw new ModelFormatException($"{file}: \"{key}\" must be a number or an array of numbers."),
    };

    private static int Size(JsonElement v, string file, string key) =>
        v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n) && n is >= 1 and <= 65536 ? n : throw new ModelFormatException($"{file}: \"{key}\" must be an integer from 1 to 65536.");
}
