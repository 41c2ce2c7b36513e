using System.Reflection;
using System.Text.Json;

namespace CnnService.Jobs;

/// <summary>
/// Reads a <see cref="TrainJobRequest"/> from a request body itself rather than letting minimal-API
/// binding do it, so that a value of the wrong type or an unknown field is a validation problem naming
/// the field, like every other mistake in a request, instead of a bare 400.
/// </summary>
public static class TrainJobRequestReader
{
    /// <summary>Each field's JSON name and what it must be, from the request type itself so the two cannot drift apart.</summary>
    private static readonly Dictionary<string, string> Expected = typeof(TrainJobRequest)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .ToDictionary(p => JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name), p => Describe(p.PropertyType), StringComparer.Ordinal);

    public static async Task<(TrainJobRequest? Request, Dictionary<string, string[]>? Errors)> ReadAsync(
        HttpRequest http, JsonSerializerOptions options, CancellationToken cancellationToken)
    {
        if (!http.HasJsonContentType()) return Error("body", "Send the job as a JSON object, with Content-Type: application/json.");
        try
        {
            TrainJobRequest? request = await http.ReadFromJsonAsync<TrainJobRequest>(options, cancellationToken);
            return request is null ? Error("body", "Send the job as a JSON object, not null.") : (request, null);
        }
        catch (JsonException e)
        {
            // A syntax error comes wrapped around the reader's own exception; a value of the wrong type or an unknown field does not.
            string field = e.InnerException is JsonException ? "" : FieldOf(e.Path);
            return field.Length == 0 ? Error("body", $"Not a valid JSON object (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}).")
                : Expected.TryGetValue(field, out string? expected) ? Error(field, $"Must be {expected}.")
                : Error(field, $"Unknown field (known: {string.Join(", ", Expected.Keys)}).");
        }
    }

    /// <summary>"$.batch_size" is batch_size; "$" or no path is the body as a whole.</summary>
    private static string FieldOf(string? path)
    {
        if (path is null || !path.StartsWith("$.", StringComparison.Ordinal)) return "";
        string rest = path[2..];
        int end = rest.IndexOfAny(['.', '[']);
        return end < 0 ? rest : rest[..end];
    }

    private static string Describe(Type type) => (Nullable.GetUnderlyingType(type) ?? type) switch
    {
        Type t when t == typeof(int) || t == typeof(long) => "an integer",
        Type t when t == typeof(double) => "a number",
        Type t when t == typeof(bool) => "true or false",
        Type t when t == typeof(string) => "a string",
        _ => "a JSON value of the documented shape",
    };

    private static (TrainJobRequest?, Dictionary<string, string[]>?) Error(string field, string message) => (null, new() { [field] = [message] });
}
