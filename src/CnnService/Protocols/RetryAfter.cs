using System.Globalization;
using CnnService.Inference;

namespace CnnService.Protocols;

/// <summary>The REST protocols' <c>Retry-After</c> header for a refusal that says when to try again (a full batch queue).</summary>
internal static class RetryAfter
{
    public static void Set(HttpResponse response, InferenceException e)
    {
        if (e.RetryAfter is TimeSpan after)
            response.Headers.RetryAfter = ((long)after.TotalSeconds).ToString(CultureInfo.InvariantCulture);
    }
}
