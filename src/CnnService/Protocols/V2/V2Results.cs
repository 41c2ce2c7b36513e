using CnnService.Inference;

namespace CnnService.Protocols.V2;

/// <summary>The v2 protocol's answers to refusals: <c>{"error": "..."}</c> with its status, not RFC 9457 problems.</summary>
internal static class V2Results
{
    public static IResult Error(int status, string message) => TypedResults.Json(new V2Error(message), statusCode: status);

    /// <summary>400, 404, 413, 415 or 503; 429 with <c>Retry-After</c> when the version's queue is full.</summary>
    public static IResult Error(HttpContext context, InferenceException e)
    {
        RetryAfter.Set(context.Response, e);
        return Error(RestStatus.Of(e.Kind), e.Message);
    }
}
