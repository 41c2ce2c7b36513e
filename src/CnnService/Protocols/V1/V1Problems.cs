using CnnService.Inference;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CnnService.Protocols.V1;

/// <summary>
/// The /v1 endpoints' refusals as RFC 9457 problems: a refused model request by its error's kind (400, 404, 413,
/// 415, 429 with <c>Retry-After</c>, 503), the endpoints' own (a bad query value, an unknown layer) by name, and
/// their declaration in the OpenAPI document.
/// </summary>
public static class V1Problems
{
    public static ProblemHttpResult From(HttpContext context, InferenceException e)
    {
        RetryAfter.Set(context.Response, e);
        string title = e.Kind switch
        {
            InferenceErrorKind.NotFound => "Not found",
            InferenceErrorKind.TooLarge => "Request too large",
            InferenceErrorKind.UnsupportedMediaType => "Unsupported media type",
            InferenceErrorKind.Busy => "Too many requests",
            InferenceErrorKind.NotReady => "Not ready",
            _ => "Invalid input",
        };
        return TypedResults.Problem(title: title, detail: e.Message, statusCode: RestStatus.Of(e.Kind));
    }

    public static ProblemHttpResult NotFound(string title, string detail) => TypedResults.Problem(title: title, detail: detail, statusCode: StatusCodes.Status404NotFound);

    public static ProblemHttpResult BadRequest(string title, string detail) => TypedResults.Problem(title: title, detail: detail, statusCode: StatusCodes.Status400BadRequest);

    /// <summary>
    /// Declares, for the OpenAPI document, the problems of an endpoint that reads images for a model:
    /// 400 (bad input), 404 (no such model, version or layer), 413 (too large), 415 (unknown body type), and <paramref name="more"/>.
    /// </summary>
    public static RouteHandlerBuilder ProducesModelProblems(this RouteHandlerBuilder builder, params int[] more)
    {
        foreach (int status in (int[])[StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType, .. more])
            builder.ProducesProblem(status);
        return builder;
    }
}
