using System.Globalization;

namespace CnnService.Endpoints;

/// <summary>The <c>top_k</c> query of /v1 predict, explain and TF Serving classify: a positive integer, <see cref="Default"/> when absent.</summary>
public static class TopKQuery
{
    public const int Default = 5;

    public static bool TryRead(HttpContext context, out int topK, out string? error)
    {
        (topK, error) = (Default, null);
        string? text = context.Request.Query["top_k"];
        if (string.IsNullOrEmpty(text)) return true;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out topK) && topK >= 1) return true;
        error = $"top_k \"{text}\" is not a positive integer.";
        return false;
    }
}
