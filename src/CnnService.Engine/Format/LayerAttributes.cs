using System.Text.Json;
using System.Text.Json.Nodes;

namespace CnnService.Engine.Format;

/// <summary>
/// An op's own settings, read from the layer object's keys beyond the common ones (kept in
/// <see cref="LayerSpec.Extra"/>): each op reads what it needs, where it is built, and a wrong
/// value is refused there naming the layer and the key. A key the op does not read is ignored,
/// as before, so files written by newer builds still load.
/// </summary>
public readonly struct LayerAttributes(LayerSpec spec, string where)
{
    /// <summary>Far beyond any real network; small enough that size arithmetic cannot overflow.</summary>
    private const int MaxList = 64;

    public bool Has(string key) => spec.Extra[key] is not null;

    public int Int(string key, int fallback, int min, int max)
    {
        if (spec.Extra[key] is not { } node) return fallback;
        return Element(node) is { ValueKind: JsonValueKind.Number } e && e.TryGetInt32(out int n) && n >= min && n <= max
            ? n
            : throw Error(key, $"must be an integer from {min} to {max}", node);
    }

    public float Float(string key, float fallback)
    {
        if (spec.Extra[key] is not { } node) return fallback;
        return Element(node) is { ValueKind: JsonValueKind.Number } e && e.TryGetDouble(out double d) && float.IsFinite((float)d)
            ? (float)d
            : throw Error(key, "must be a finite number", node);
    }

    public bool Bool(string key, bool fallback)
    {
        if (spec.Extra[key] is not { } node) return fallback;
        return node is JsonValue v && v.TryGetValue(out bool b) ? b : throw Error(key, "must be true or false", node);
    }

    public string String(string key, string fallback, params string[] allowed)
    {
        if (spec.Extra[key] is not { } node) return fallback;
        return node is JsonValue v && v.TryGetValue(out string? s) && Array.IndexOf(allowed, s) >= 0
            ? s
            : throw Error(key, $"must be one of {string.Join(", ", allowed.Select(a => $"\"{a}\""))}", node);
    }

    /// <summary>A list of integers, or null when the key is absent.</summary>
    public int[]? Ints(string key, int min, int max)
    {
        if (spec.Extra[key] is not { } node) return null;
        if (node is not JsonArray array || array.Count > MaxList)
            throw Error(key, $"must be a list of at most {MaxList} integers", node);
        var values = new int[array.Count];
        for (int i = 0; i < values.Length; i++)
        {
            if (array[i] is not JsonValue v || Element(v) is not { ValueKind: JsonValueKind.Number } e || !e.TryGetInt32(out values[i]) || values[i] < min || values[i] > max)
                throw Error(key, $"must be a list of integers from {min} to {max}", node);
        }

        return values;
    }

    /// <summary>An integer or an [h, w] pair, or null when the key is absent.</summary>
    public Pair? Pair(string key, int min, int max)
    {
        if (spec.Extra[key] is not { } node) return null;
        if (node is JsonValue)
        {
            int n = Int(key, 0, min, max);
            return new Pair(n, n);
        }

        int[] values = Ints(key, min, max)!;
        return values.Length == 2 ? new Pair(values[0], values[1]) : throw Error(key, $"must be an integer or an [h, w] pair from {min} to {max}", node);
    }

    /// <summary>The value as parsed JSON. A spec built in code (an importer, a test) holds CLR values (an int, a
    /// double) rather than parsed elements; both must read the same.</summary>
    private static JsonElement Element(JsonNode node) =>
        node is JsonValue v && v.TryGetValue(out JsonElement e) ? e : JsonSerializer.SerializeToElement(node);

    private ModelFormatException Error(string key, string rule, JsonNode node)
    {
        string shown = node.ToJsonString();
        if (shown.Length > 60) shown = shown[..57] + "...";
        return new ModelFormatException($"{where}: \"{key}\" {rule}, got {shown}.");
    }
}
