using CnnService.Inference;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CnnService.Protocols.V1;

/// <summary>
/// The /v1 endpoints' answer to a refused request: an RFC 9457 problem, its status and title chosen by the
/// error's kind (400, 404, 413, 415, 429 with <c>Retry-After</c>, 503), its detail the error's message.
/// </summary>
public static class V1Problems
{
    public static ProblemHttpResult From(HttpContext context, InferenceException e)
    {
        RetryAfter.Set(context.Response, e);
        (int status, string title) = e.Kind switch
        {
            InferenceErrorKind.NotFound => (StatusCodes.Status404NotFound, "Not found"),
            InferenceErrorKind.TooLarge => (StatusCodes.Status413PayloadTooLarge, "Request too large"),
            InferenceErrorKind.UnsupportedMediaType => (StatusCodes.Status415UnsupportedMediaType, "Unsupported media type"),
            InferenceErrorKind.Busy => (StatusCodes.Status429TooManyRequests, "Too many requests"),
            InferenceErrorKind.NotReady => (StatusCodes.Status503ServiceUnavailable, "Not ready"),
            _ => (StatusCodes.Status400BadRequest, "Invalid input"),
        };
        return TypedResults.Problem(title: title, detail: e.Message, statusCode: status);
    }
}
