using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CnnService.Engine.Format;

/// <summary>
/// Writes a <see cref="ModelSpec"/> back as model.json, leaving out values equal to their
/// defaults so a written file says what its author said and little else.
/// </summary>
internal static class ModelSpecWriter
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        // The file is not embedded in HTML: keep labels like "café" or "<unk>" readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly LayerSpec Defaults = new() { Type = "" };

    public static string Write(ModelSpec spec)
    {
        var root = new JsonObject();
        // A graph says so, so a build that only runs chains is not led to run it as one.
        int format = spec.Layers.Any(l => l.Inputs is not null) ? Math.Max(spec.Format, ModelSpec.GraphFormat) : spec.Format;
        if (format > 1) root["format"] = format;
        root["name"] = spec.Name;
        if (spec.Description is not null)
            root["description"] = spec.Description;
        root["input"] = Input(spec.Input);
        root["labels"] = new JsonArray([.. spec.Labels.Select(l => (JsonNode?)JsonValue.Create(l))]);
        root["layers"] = new JsonArray([.. spec.Layers.Select(l => (JsonNode?)Layer(l))]);
        if (spec.Metrics is not null)
            root["metrics"] = spec.Metrics.DeepClone();
        AddExtra(root, spec.Extra, ModelSpecJson.RootKeys, "model");
        return root.ToJsonString(Options);
    }

    private static JsonObject Input(InputSpec input)
    {
        var o = new JsonObject { ["channels"] = input.Channels, ["height"] = input.Height, ["width"] = input.Width };
        if (input.Color != ColorMode.None)
            o["color"] = input.Color == ColorMode.Grayscale ? "grayscale" : "rgb";
        if (input.Scale != 1f)
            o["scale"] = input.Scale;
        if (input.Mean.Any(m => m != 0f))
            o["mean"] = PerChannel(input.Mean);
        if (input.Std.Any(s => s != 1f))
            o["std"] = PerChannel(input.Std);
        AddExtra(o, input.Extra, ModelSpecJson.InputKeys, "input");
        return o;
    }

    /// <summary>One number when all channels agree (the parser broadcasts it back), else the array.</summary>
    private static JsonNode PerChannel(float[] values) =>
        values.Length > 0 && values.Distinct().Count() == 1
            ? JsonValue.Create(values[0])
            : new JsonArray([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);

    private static JsonObject Layer(LayerSpec l)
    {
        var o = new JsonObject { ["type"] = l.Type };
        if (l.Name is not null) o["name"] = l.Name;
        if (l.Inputs is { } inputs) o["inputs"] = new JsonArray([.. inputs.Select(i => (JsonNode?)JsonValue.Create(i))]);
        if (l.Filters is { } filters) o["filters"] = filters;
        if (l.Units is { } units) o["units"] = units;
        if (l.Kernel is { } kernel) o["kernel"] = Pair(kernel);
        if (l.Stride is { } stride) o["stride"] = Pair(stride);
        if (l.Padding != Defaults.Padding) o["padding"] = Padding(l.Padding);
        if (l.PaddingMode != Defaults.PaddingMode) o["padding_mode"] = l.PaddingMode;
        if (l.UseBias != Defaults.UseBias) o["bias"] = l.UseBias;
        if (l.Rate != Defaults.Rate) o["rate"] = l.Rate;
        if (l.Eps != Defaults.Eps) o["eps"] = l.Eps;
        if (l.Momentum != Defaults.Momentum) o["momentum"] = l.Momentum;
        if (l.Size != Defaults.Size) o["size"] = l.Size;
        if (l.Alpha is { } alpha) o["alpha"] = alpha;
        if (l.Beta is { } beta) o["beta"] = beta;
        if (l.K != Defaults.K) o["k"] = l.K;
        AddExtra(o, l.Extra, ModelSpecJson.LayerKeys, $"layer {l.Name ?? l.Type}");
        return o;
    }

    private static JsonNode Pair(Pair p) => p.H == p.W ? JsonValue.Create(p.H) : new JsonArray(p.H, p.W);

    private static JsonNode Padding(Padding p) => p.Kind switch
    {
        PaddingKind.Same => JsonValue.Create("same"),
        PaddingKind.Valid => JsonValue.Create("valid"),
        _ when p.IsSymmetric => Pair(new Pair(p.Top, p.Left)),
        _ => new JsonArray(p.Top, p.Left, p.Bottom, p.Right),
    };

    private static void AddExtra(JsonObject target, JsonObject extra, HashSet<string> known, string owner)
    {
        foreach (var (key, value) in extra)
        {
            // An Extra entry named like a known key would silently replace (or duplicate) it.
            if (known.Contains(key))
                throw new ArgumentException($"{owner}: Extra contains \"{key}\", which is a known key; set the property instead");
            target[key] = value?.DeepClone();
        }
    }
}
