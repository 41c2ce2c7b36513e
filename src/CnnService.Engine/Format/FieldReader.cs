using System.Text.Json;

namespace CnnService.Engine.Format;

/// <summary>
/// Typed reads of JSON values with errors that say where they are: every failure becomes a
/// <see cref="ModelFormatException"/> "file: where: what", never a JsonException or InvalidCast.
/// </summary>
internal sealed class FieldReader(string fileName)
{
    public ModelFormatException Error(string? where, string message) =>
        new(where is null ? $"{fileName}: {message}" : $"{fileName}: {where}: {message}");

    /// <summary>The value as written, shortened so a hostile value cannot flood a log line.</summary>
    public static string Show(JsonElement value) => Shorten(value.GetRawText());

    public static string Shorten(string text) => text.Length <= 48 ? text : text[..45] + "...";

    public string String(JsonElement value, string? where, string key)
    {
        if (value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } s)
            return s;
        throw Error(where, $"\"{key}\" must be a non-empty string, got {Show(value)}");
    }

    public int Int(JsonElement value, string? where, string key, int min, int max)
    {
        // TryGetInt32 rejects 3.0, 1e3 and anything out of int range: all "not an integer" here.
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int n) && n >= min && n <= max)
            return n;
        throw Error(where, $"\"{key}\" must be an integer from {min} to {max}, got {Show(value)}");
    }

    public float Float(JsonElement value, string? where, string key)
    {
        // TryGetDouble turns 1e400 into infinity, and a finite double can overflow float: check both.
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double d) && double.IsFinite(d)
            && float.IsFinite((float)d))
            return (float)d;
        throw Error(where, $"\"{key}\" must be a finite number, got {Show(value)}");
    }

    public bool Bool(JsonElement value, string? where, string key) => value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw Error(where, $"\"{key}\" must be true or false, got {Show(value)}"),
    };

    /// <summary>An integer n (meaning n x n) or an [h, w] array, each within [min, max]; null if not.</summary>
    public static Pair? TryPair(JsonElement value, int min, int max)
    {
        if (value.ValueKind == JsonValueKind.Number)
            return TryInt(value, min, max) is int n ? Pair.Square(n) : null;
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() != 2)
            return null;
        return TryInt(value[0], min, max) is int h && TryInt(value[1], min, max) is int w ? new Pair(h, w) : null;
    }

    private static int? TryInt(JsonElement value, int min, int max) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int n) && n >= min && n <= max ? n : null;

    /// <summary>The object's properties; a non-object is an error described by <paramref name="what"/>.</summary>
    public JsonElement.ObjectEnumerator Object(JsonElement value, string? where, string what)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Error(where, $"{what} must be a JSON object, got {Show(value)}");
        return value.EnumerateObject();
    }
}
