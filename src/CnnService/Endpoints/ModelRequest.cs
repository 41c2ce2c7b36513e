using CnnService.Batching;
using CnnService.Metrics;
using CnnService.Models;
using CnnService.Predict;
using Microsoft.AspNetCore.Http.HttpResults;
using Serilog;

namespace CnnService.Endpoints;

/// <summary>
/// What every request on one model shares, in one place: the lease on its version, the model label on
/// its metrics and log line, and its refusals as RFC 9457 problems.
/// </summary>
internal static class ModelRequest
{
    /// <summary>Leases the version (the default one when <paramref name="version"/> is null) and labels the request with it, or a 404.</summary>
    public static bool TryAcquire(HttpContext context, ModelRepository repository, string name, int? version, out ModelLease lease, out ProblemHttpResult problem)
    {
        problem = null!;
        if (!repository.TryAcquire(name, version, out lease, out string? error))
        {
            problem = NotFound("Not found", error!);
            return false;
        }

        context.Items[RequestMetricsMiddleware.ModelItem] = name;
        if (context.RequestServices.GetService<IDiagnosticContext>() is { } log)
        {
            log.Set("Model", name);
            log.Set("Version", lease.Version.Version);
        }

        return true;
    }

    /// <summary>The batch queue is full: 429 with <c>Retry-After</c>, counted as shed.</summary>
    public static ProblemHttpResult Busy(HttpContext context, string name, BatchingOptions batching)
    {
        context.RequestServices.GetRequiredService<ServiceMetrics>().ObserveShed(name);
        context.Response.Headers.RetryAfter = batching.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Problem(title: "Too many requests", detail: $"Model {name} is busy: {batching.MaxQueuedImages} images are already waiting. Retry after {batching.RetryAfterSeconds} s.", statusCode: StatusCodes.Status429TooManyRequests);
    }

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
