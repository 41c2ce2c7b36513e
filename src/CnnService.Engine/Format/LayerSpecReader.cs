using System.Text.Json;
using System.Text.Json.Nodes;

namespace CnnService.Engine.Format;

/// <summary>
/// Reads one entry of <c>layers</c>. Checks only what the file alone can tell (required keys,
/// ranges, unique names); shapes are checked when the layers are built.
/// </summary>
internal sealed class LayerSpecReader(FieldReader f)
{
    // Sanity caps: far beyond any real CNN, small enough that later size arithmetic cannot overflow.
    private const int MaxChannels = 1 << 20;
    private const int MaxWindow = 4096;

    private readonly Dictionary<string, int> _names = new(StringComparer.Ordinal);

    public LayerSpec Read(JsonElement value, int index)
    {
        string at = $"layer {index}";
        if (value.ValueKind != JsonValueKind.Object)
            throw f.Error(at, $"must be a JSON object, got {FieldReader.Show(value)}");

        string type = ReadType(value, at);
        at = $"layer {index} ({type})";
        string? name = null;
        if (value.TryGetProperty("name", out var n) && n.ValueKind != JsonValueKind.Null)
        {
            name = f.String(n, at, "name");
            at = $"layer {index} ({FieldReader.Shorten(name)}, {type})";
            if (!_names.TryAdd(name, index))
                throw f.Error(at, $"name \"{FieldReader.Shorten(name)}\" is already used by layer {_names[name]}");
        }

        var d = new LayerSpec { Type = type }; // defaults
        int? filters = null, units = null;
        Pair? kernel = null, stride = null;
        Padding padding = d.Padding;
        string paddingMode = d.PaddingMode;
        bool useBias = d.UseBias;
        float rate = d.Rate, eps = d.Eps, momentum = d.Momentum, k = d.K;
        float? alpha = null, beta = null;
        int size = d.Size;
        var extra = new JsonObject();
        List<string>? inputs = null;

        foreach (var p in value.EnumerateObject())
        {
            var v = p.Value;
            if (v.ValueKind == JsonValueKind.Null && ModelSpecJson.LayerKeys.Contains(p.Name))
                continue;
            switch (p.Name)
            {
                case "type" or "name": break;
                case "inputs": inputs = ReadInputs(v, at); break;
                case "filters": filters = f.Int(v, at, "filters", 1, MaxChannels); break;
                case "units": units = f.Int(v, at, "units", 1, MaxChannels); break;
                case "kernel": kernel = ReadPair(v, at, "kernel", 1); break;
                case "stride": stride = ReadPair(v, at, "stride", 1); break;
                case "padding": padding = ReadPadding(v, at); break;
                case "padding_mode":
                    paddingMode = v.ValueKind == JsonValueKind.String && v.GetString() is "zeros" or "reflect"
                        ? v.GetString()!
                        : throw f.Error(at, $"\"padding_mode\" must be \"zeros\" or \"reflect\", got {FieldReader.Show(v)}");
                    break;
                case "bias": useBias = f.Bool(v, at, "bias"); break;
                case "rate": rate = Checked(v, at, "rate", r => r >= 0 && r < 1, "must be at least 0 and below 1"); break;
                case "eps": eps = Checked(v, at, "eps", e => e >= 0, "must not be negative"); break;
                case "momentum": momentum = Checked(v, at, "momentum", m => m >= 0 && m <= 1, "must be between 0 and 1"); break;
                case "size": size = f.Int(v, at, "size", 1, MaxWindow); break;
                case "alpha": alpha = f.Float(v, at, "alpha"); break;
                case "beta": beta = f.Float(v, at, "beta"); break;
                case "k": k = f.Float(v, at, "k"); break;
                default: extra[p.Name] = ModelSpecJson.Clone(v); break;
            }
        }

        bool pooling = type is "maxpool2d" or "avgpool2d";
        if (type is "conv2d" or "dense" or "batchnorm" && name is null)
            throw f.Error(at, $"\"name\" is required for {type} (it prefixes the layer's tensors)");
        if (type is "add" or "sub" or "mul" or "div" && name is null && extra["constant_shape"] is not null)
            throw f.Error(at, $"\"name\" is required for {type} with a constant (it is read from \"name.value\")");
        if (type == "conv2d" && filters is null)
            throw f.Error(at, "\"filters\" is required for conv2d");
        if (type == "dense" && units is null)
            throw f.Error(at, "\"units\" is required for dense");
        if ((type == "conv2d" || pooling) && kernel is null)
            throw f.Error(at, $"\"kernel\" is required for {type}");
        if (padding.Kind == PaddingKind.Same)
        {
            // Pooling's stride defaults to its kernel, so "same" on a pool usually means a stride > 1.
            Pair effective = stride ?? (pooling && kernel is { } kk ? kk : new Pair(1, 1));
            if (effective != new Pair(1, 1))
                throw f.Error(at, $"\"padding\": \"same\" is only supported with stride 1, got stride {effective}"
                    + (stride is null ? " (a pooling stride defaults to the kernel size)" : ""));
        }

        return new LayerSpec
        {
            Type = type, Name = name, Inputs = inputs, Filters = filters, Units = units, Kernel = kernel, Stride = stride,
            Padding = padding, PaddingMode = paddingMode, UseBias = useBias, Rate = rate, Eps = eps,
            Momentum = momentum, Size = size, Alpha = alpha, Beta = beta, K = k, Extra = extra,
        };
    }

    private string ReadType(JsonElement layer, string at)
    {
        if (!layer.TryGetProperty("type", out var t) || t.ValueKind == JsonValueKind.Null)
            throw f.Error(at, "\"type\" is missing");
        if (t.ValueKind != JsonValueKind.String)
            throw f.Error(at, $"\"type\" must be a string, got {FieldReader.Show(t)}");
        string type = t.GetString()!;
        if (!ModelSpecJson.LayerTypes.Contains(type))
            throw f.Error($"{at} ({FieldReader.Shorten(type)})",
                $"unknown type \"{FieldReader.Shorten(type)}\"; known types: {string.Join(", ", ModelSpecJson.LayerTypes)}");
        return type;
    }

    private List<string> ReadInputs(JsonElement v, string at)
    {
        const int MaxInputs = 4096;
        if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() is 0 or > MaxInputs)
            throw f.Error(at, $"\"inputs\" must be a list of 1 to {MaxInputs} layer names (or \"{LayerSpec.ModelInput}\"), got {FieldReader.Show(v)}");
        var inputs = new List<string>(v.GetArrayLength());
        foreach (var item in v.EnumerateArray())
            inputs.Add(f.String(item, at, "inputs"));
        return inputs;
    }

    private Pair ReadPair(JsonElement v, string at, string key, int min) =>
        FieldReader.TryPair(v, min, MaxWindow)
        ?? throw f.Error(at, $"\"{key}\" must be an integer or [h, w] pair of {(min > 0 ? "positive" : "non-negative")} integers (at most {MaxWindow}), got {FieldReader.Show(v)}");

    private Padding ReadPadding(JsonElement v, string at)
    {
        if (v.ValueKind == JsonValueKind.String && v.GetString() is "same")
            return Padding.Same;
        if (v.ValueKind == JsonValueKind.String && v.GetString() is "valid")
            return Padding.Valid;
        if (FieldReader.TryPair(v, 0, MaxWindow) is { } p)
            return Padding.Of(p.H, p.W);
        if (v.ValueKind == JsonValueKind.Array && v.GetArrayLength() == 4)
        {
            Span<int> sides = stackalloc int[4];
            int i = 0;
            foreach (var side in v.EnumerateArray())
            {
                if (!side.TryGetInt32(out sides[i]) || sides[i] < 0 || sides[i] > MaxWindow) break;
                i++;
            }

            if (i == 4) return Padding.Sides(sides[0], sides[1], sides[2], sides[3]);
        }

        throw f.Error(at, $"\"padding\" must be an integer, an [h, w] pair or [top, left, bottom, right] of non-negative integers (at most {MaxWindow}), \"same\" or \"valid\", got {FieldReader.Show(v)}");
    }

    private float Checked(JsonElement v, string at, string key, Func<float, bool> ok, string rule)
    {
        float x = f.Float(v, at, key);
        return ok(x) ? x : throw f.Error(at, $"\"{key}\" {rule}, got {FieldReader.Show(v)}");
    }
}
