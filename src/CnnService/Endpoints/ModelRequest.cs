using Microsoft.AspNetCore.Http.HttpResults;

namespace CnnService.Endpoints;

/// <summary>The /v1 model endpoints' own refusals (bad query values, unknown layers) as RFC 9457 problems, and their OpenAPI declaration.</summary>
internal static class ModelRequest
{
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

    public static ProblemHttpResult NotFound(string title, string detail) => TypedResults.Problem(title: title, detail: detail, statusCode: StatusCodes.Status404NotFound);

    public static ProblemHttpResult BadRequest(string title, string detail) => TypedResults.Problem(title: title, detail: detail, statusCode: StatusCodes.Status400BadRequest);
}
