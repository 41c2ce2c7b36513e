using System.Text.Unicode;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CnnService.Engine.Format;

/// <summary>Turns model.json text into a validated <see cref="ModelSpec"/>; layers are read by <see cref="LayerSpecReader"/>.</summary>
internal sealed class ModelSpecReader
{
    private const int MaxDim = 65536;
    private const long MaxVolume = 1L << 26;
    private const int MaxLayers = 10_000;

    // Duplicate keys are rejected: with them, which value wins depends on the reader, and other tools disagree.
    private static readonly JsonDocumentOptions Options = new() { AllowDuplicateProperties = false, MaxDepth = 64 };

    private readonly string _fileName;
    private readonly FieldReader _f;

    public ModelSpecReader(string fileName)
    {
        _fileName = fileName;
        _f = new FieldReader(fileName);
    }

    public ModelSpec Read(string json)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, Options); }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new ModelFormatException($"{_fileName}: not valid JSON: {e.Message}", e);
        }
        using (doc) return ReadRoot(doc.RootElement);
    }

    /// <summary>A bare <c>layers</c> array, as a request that names no input or labels sends it.</summary>
    public List<LayerSpec> ReadLayers(string json)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, Options); }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new ModelFormatException($"{_fileName}: not valid JSON: {e.Message}", e);
        }
        using (doc) return ReadLayers(doc.RootElement);
    }

    public ModelSpec Read(ReadOnlyMemory<byte> utf8)
    {
        // JsonDocument neither skips a BOM nor checks UTF-8 inside strings until they are read.
        if (utf8.Span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
            utf8 = utf8[3..];
        if (!Utf8.IsValid(utf8.Span))
            throw _f.Error(null, "not valid UTF-8 text");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(utf8, Options); }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{_fileName}: not valid JSON: {e.Message}", e);
        }
        using (doc) return ReadRoot(doc.RootElement);
    }

    private ModelSpec ReadRoot(JsonElement root)
    {
        string? name = null, description = null;
        InputSpec? input = null;
        List<string> labels = [];
        List<LayerSpec>? layers = null;
        JsonObject? metrics = null;
        int format = 1;
        var extra = new JsonObject();

        foreach (var p in _f.Object(root, null, "the top level"))
        {
            var v = p.Value;
            // A known key set to null means "not written" (exporters often emit None).
            if (v.ValueKind == JsonValueKind.Null && ModelSpecJson.RootKeys.Contains(p.Name))
                continue;
            switch (p.Name)
            {
                case "format": format = ReadFormat(v); break;
                case "name": name = _f.String(v, null, "name"); break;
                case "description":
                    description = v.ValueKind == JsonValueKind.String
                        ? v.GetString()
                        : throw _f.Error(null, $"\"description\" must be a string, got {FieldReader.Show(v)}");
                    break;
                case "input": input = ReadInput(v); break;
                case "labels": labels = ReadLabels(v); break;
                case "layers": layers = ReadLayers(v); break;
                case "metrics":
                    _f.Object(v, null, "\"metrics\"");
                    metrics = (JsonObject)ModelSpecJson.Clone(v)!;
                    break;
                default: extra[p.Name] = ModelSpecJson.Clone(v); break;
            }
        }

        if (format < ModelSpec.GraphFormat && layers?.FirstOrDefault(l => l.Inputs is not null) is { } graphLayer)
            throw _f.Error(null, $"layer \"{FieldReader.Shorten(graphLayer.Name ?? graphLayer.Type)}\" has \"inputs\", which needs \"format\": {ModelSpec.GraphFormat} (a graph, not a chain)");
        return new ModelSpec
        {
            Format = format,
            Name = name ?? throw _f.Error(null, "\"name\" is missing"),
            Description = description,
            Input = input ?? throw _f.Error(null, "\"input\" is missing"),
            Labels = labels,
            Layers = layers ?? throw _f.Error(null, "\"layers\" is missing"),
            Metrics = metrics,
            Extra = extra,
        };
    }

    /// <summary>1 (a chain of layers) or 2 (layers may name their inputs); a newer format is refused rather than misread.</summary>
    private int ReadFormat(JsonElement v)
    {
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int format) && format > ModelSpec.LatestFormat)
            throw _f.Error(null, $"\"format\": {format} was written by a newer CnnService; this build reads formats 1 to {ModelSpec.LatestFormat}");
        return _f.Int(v, null, "format", 1, ModelSpec.LatestFormat);
    }

    private InputSpec ReadInput(JsonElement value)
    {
        const string at = "input";
        int? channels = null, height = null, width = null;
        ColorMode color = ColorMode.None;
        float scale = 1f;
        JsonElement? mean = null, std = null;
        var extra = new JsonObject();

        foreach (var p in _f.Object(value, null, "\"input\""))
        {
            var v = p.Value;
            if (v.ValueKind == JsonValueKind.Null && ModelSpecJson.InputKeys.Contains(p.Name))
                continue;
            switch (p.Name)
            {
                case "channels": channels = _f.Int(v, at, "channels", 1, MaxDim); break;
                case "height": height = _f.Int(v, at, "height", 1, MaxDim); break;
                case "width": width = _f.Int(v, at, "width", 1, MaxDim); break;
                case "color": color = ReadColor(v); break;
                case "scale": scale = _f.Float(v, at, "scale"); break;
                // mean/std need the channel count, which may come later in the object.
                case "mean": mean = v; break;
                case "std": std = v; break;
                default: extra[p.Name] = ModelSpecJson.Clone(v); break;
            }
        }

        int c = channels ?? throw _f.Error(at, "\"channels\" is missing");
        int h = height ?? throw _f.Error(at, "\"height\" is missing");
        int w = width ?? throw _f.Error(at, "\"width\" is missing");
        long volume = (long)c * h * w;
        if (volume > MaxVolume)
            throw _f.Error(at, $"channels*height*width = {volume} exceeds the limit of {MaxVolume}");
        if (color == ColorMode.Grayscale && c != 1)
            throw _f.Error(at, $"\"color\": \"grayscale\" needs \"channels\": 1, got {c}");
        if (color == ColorMode.Rgb && c != 3)
            throw _f.Error(at, $"\"color\": \"rgb\" needs \"channels\": 3, got {c}");

        float[] stdValues = PerChannel(std, "std", c, 1f);
        if (stdValues.Any(s => s == 0f))
            throw _f.Error(at, "\"std\" must not be zero (the input is divided by it)");
        return new InputSpec
        {
            Channels = c, Height = h, Width = w, Color = color, Scale = scale,
            Mean = PerChannel(mean, "mean", c, 0f), Std = stdValues, Extra = extra,
        };
    }

    private ColorMode ReadColor(JsonElement v) => v.ValueKind == JsonValueKind.String ? v.GetString() switch
    {
        "grayscale" => ColorMode.Grayscale,
        "rgb" => ColorMode.Rgb,
        "none" => ColorMode.None,
        _ => throw BadColor(v),
    } : throw BadColor(v);

    private ModelFormatException BadColor(JsonElement v) =>
        _f.Error("input", $"\"color\" must be \"grayscale\", \"rgb\" or \"none\", got {FieldReader.Show(v)}");

    /// <summary>A number or an array of 1 or <paramref name="channels"/> numbers, broadcast to one per channel.</summary>
    private float[] PerChannel(JsonElement? value, string key, int channels, float fallback)
    {
        if (value is not { } v)
            return Enumerable.Repeat(fallback, channels).ToArray();
        if (v.ValueKind == JsonValueKind.Number)
            return Enumerable.Repeat(_f.Float(v, "input", key), channels).ToArray();
        int length = v.ValueKind == JsonValueKind.Array ? v.GetArrayLength() : -1;
        if (length != 1 && length != channels)
            throw _f.Error("input", $"\"{key}\" must be a number or an array of 1 or {channels} numbers, got {FieldReader.Show(v)}");
        var values = v.EnumerateArray().Select(e => _f.Float(e, "input", key)).ToArray();
        return length == 1 ? Enumerable.Repeat(values[0], channels).ToArray() : values;
    }

    private List<string> ReadLabels(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array)
            throw _f.Error(null, $"\"labels\" must be an array of strings, got {FieldReader.Show(value)}");
        var labels = new List<string>(value.GetArrayLength());
        foreach (var e in value.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.String)
                throw _f.Error("labels", $"label {labels.Count} must be a string, got {FieldReader.Show(e)}");
            labels.Add(e.GetString()!);
        }
        return labels;
    }

    private List<LayerSpec> ReadLayers(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array)
            throw _f.Error(null, $"\"layers\" must be an array, got {FieldReader.Show(value)}");
        int count = value.GetArrayLength();
        if (count == 0)
            throw _f.Error(null, "\"layers\" is empty; a model needs at least one layer");
        if (count > MaxLayers)
            throw _f.Error(null, $"\"layers\" has {count} entries; the limit is {MaxLayers}");
        var reader = new LayerSpecReader(_f);
        var layers = new List<LayerSpec>(count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in value.EnumerateArray())
        {
            LayerSpec layer = reader.Read(e, layers.Count);
            // Inputs name earlier layers only: the list is then in an order that can run, and a cycle cannot be written.
            foreach (string input in layer.Inputs ?? [])
            {
                if (input != LayerSpec.ModelInput && !names.Contains(input))
                    throw _f.Error(layer.Describe(layers.Count), $"input \"{FieldReader.Shorten(input)}\" is not the name of an earlier layer or \"{LayerSpec.ModelInput}\"");
            }

            if (layer.Name == LayerSpec.ModelInput)
                throw _f.Error(layer.Describe(layers.Count), $"the name \"{LayerSpec.ModelInput}\" is kept for the model's input");
            if (layer.Name is not null) names.Add(layer.Name);
            layers.Add(layer);
        }

        return layers;
    }
}
