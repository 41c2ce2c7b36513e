using CnnService.Inference;

namespace CnnService.Protocols.TfServing;

/// <summary>
/// TensorFlow Serving's answer to a refused request: <c>{"error": "..."}</c> with the HTTP status TF Serving gives
/// the error's code: 400 (INVALID_ARGUMENT), 404 (NOT_FOUND), 503 (UNAVAILABLE), 429 (RESOURCE_EXHAUSTED: the batch
/// queue is full, with <c>Retry-After</c>); and, as /v1 answers them, 413 and 415 for bodies past the limit or of a type not read.
/// </summary>
public static class TfServingErrors
{
    public static IResult From(HttpContext context, InferenceException e)
    {
        RetryAfter.Set(context.Response, e);
        return Error(RestStatus.Of(e.Kind), e.Message);
    }

    public static IResult Error(int status, string message) => TypedResults.Json(new TfError(message), statusCode: status);
}
