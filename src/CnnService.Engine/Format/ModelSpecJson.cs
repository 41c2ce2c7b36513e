using System.Text.Json.Nodes;

namespace CnnService.Engine.Format;

/// <summary>
/// Reads and writes <c>model.json</c>. Parsing validates everything that can be checked from
/// the file alone and reports every problem as a <see cref="ModelFormatException"/> naming the
/// file and the layer; checks that need the weights or shape inference belong to the layers.
/// </summary>
public static class ModelSpecJson
{
    /// <summary>A model.json is a few kilobytes; anything this big is a mistake or an attack.</summary>
    public const long MaxFileBytes = 16L * 1024 * 1024;

    /// <summary>The layer <c>type</c> values the format knows, in documentation order.</summary>
    public static IReadOnlyList<string> LayerTypes { get; } =
    [
        "conv2d", "relu", "sigmoid", "tanh", "maxpool2d", "avgpool2d", "global_avgpool",
        "flatten", "dense", "dropout", "lrn", "batchnorm", "softmax",
        "clip", "hardsigmoid", "hardswish", "pad", "channel_shuffle", "reshape",
        "add", "sub", "mul", "div", "concat", "slice_channels",
    ];

    /// <summary>Parses model.json text; <paramref name="fileName"/> prefixes every error message.</summary>
    public static ModelSpec Parse(string json, string fileName)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(fileName);
        return new ModelSpecReader(fileName).Read(json);
    }

    /// <summary>
    /// Parses a JSON array of layer objects (the <c>layers</c> of a model.json) with the same
    /// checks; <paramref name="fileName"/> prefixes every error message. For callers that take
    /// the input and labels from elsewhere, as a train job takes them from its dataset.
    /// </summary>
    public static IReadOnlyList<LayerSpec> ParseLayers(string json, string fileName)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(fileName);
        return new ModelSpecReader(fileName).ReadLayers(json);
    }

    /// <summary>Reads and parses a model.json file; errors are prefixed with <paramref name="path"/> as given.</summary>
    public static ModelSpec Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            // Check the length before allocating: never size a buffer from an unchecked number.
            if (stream.Length > MaxFileBytes)
                throw new ModelFormatException($"{path}: file is {stream.Length} bytes; the limit for a model description is {MaxFileBytes / (1024 * 1024)} MiB");
            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            // One exception type for "this model cannot be loaded" keeps callers simple; the cause stays attached.
            throw new ModelFormatException($"{path}: cannot read the file: {e.Message}", e);
        }
        return new ModelSpecReader(path).Read(bytes);
    }

    /// <summary>
    /// Writes <paramref name="spec"/> as indented model.json. Values equal to their defaults are
    /// left out; unknown keys (<c>Extra</c>) are written back after the known ones.
    /// </summary>
    public static string ToJson(ModelSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return ModelSpecWriter.Write(spec);
    }

    /// <summary>The keys a layer object may have besides unknown ones kept in <see cref="LayerSpec.Extra"/>.</summary>
    internal static readonly HashSet<string> LayerKeys =
    [
        "type", "name", "inputs", "filters", "units", "kernel", "stride", "padding", "padding_mode", "bias",
        "rate", "eps", "momentum", "size", "alpha", "beta", "k",
    ];

    internal static readonly HashSet<string> InputKeys = ["channels", "height", "width", "color", "scale", "mean", "std"];

    internal static readonly HashSet<string> RootKeys = ["format", "name", "description", "input", "labels", "layers", "metrics"];

    /// <summary>A detached copy of an unknown value, so the DTO does not keep the parsed document alive.</summary>
    internal static JsonNode? Clone(System.Text.Json.JsonElement element) => JsonNode.Parse(element.GetRawText());
}
