using System.Globalization;
using CnnService.Batching;
using CnnService.Contracts;
using CnnService.Models;
using CnnService.Predict;
using Microsoft.AspNetCore.Http.HttpResults;
using Serilog;

namespace CnnService.Endpoints;

/// <summary>
/// <c>POST /v1/models/{name}/predict</c> and <c>POST /v1/models/{name}/versions/{version}/predict</c>:
/// images (multipart files, a raw image body, base64 in JSON) or normalised instances in, the top
/// classes and every probability out. The request holds a lease on its version from start to end, so a
/// hot swap never pulls the model out from under it.
/// </summary>
public static class PredictEndpoints
{
    public const int DefaultTopK = 5;

    public static RouteGroupBuilder MapPredictEndpoints(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder group = app.MapGroup("/v1/models/{name}").WithTags("Predict");

        group.MapPost("/predict", (string name, HttpContext context, ModelRepository repository, PredictRequestReader reader, IDiagnosticContext log) =>
                PredictAsync(name, null, context, repository, reader, log))
            .WithName("Predict")
            .WithSummary("Classify images with a model's default version")
            .WithDescription("multipart/form-data with one or more image files (one prediction per file, in order); a raw image/png, image/jpeg, image/webp, image/gif or image/bmp body; or application/json with {\"instances\": [C x H x W arrays]} or {\"images\": [base64, ...]}. Query top_k (default 5).")
            .DisableAntiforgery();

        group.MapPost("/versions/{version}/predict", (string name, string version, HttpContext context, ModelRepository repository, PredictRequestReader reader, IDiagnosticContext log) =>
                VersionRoute.TryParse(version, out int v, out var problem) ? PredictAsync(name, v, context, repository, reader, log) : Task.FromResult<Results<Ok<PredictResponse>, ProblemHttpResult>>(problem))
            .WithName("PredictVersion")
            .WithSummary("Classify images with one version of a model")
            .DisableAntiforgery();

        return group;
    }

    private static async Task<Results<Ok<PredictResponse>, ProblemHttpResult>> PredictAsync(
        string name, int? version, HttpContext context, ModelRepository repository, PredictRequestReader reader, IDiagnosticContext log)
    {
        if (!TryReadTopK(context.Request.Query["top_k"], out int topK, out string? topKError))
            return TypedResults.Problem(title: "Invalid top_k", detail: topKError, statusCode: StatusCodes.Status400BadRequest);
        if (!repository.TryAcquire(name, version, out ModelLease lease, out string? error))
            return TypedResults.Problem(title: "Not found", detail: error, statusCode: StatusCodes.Status404NotFound);

        using (lease)
        {
            ModelVersion served = lease.Version;
            context.Items[Metrics.RequestMetricsMiddleware.ModelItem] = name;
            log.Set("Model", name);
            log.Set("Version", served.Version);
            try
            {
                using PredictInputs inputs = await reader.ReadAsync(context.Request, served.Model.Spec.Input, context.RequestAborted);
                BatchResult result = await served.Batcher.SubmitAsync(inputs.Buffer, inputs.Count, context.RequestAborted);
                log.Set("Images", inputs.Count);
                log.Set("BatchSize", result.BatchSize);
                context.Items[Hosting.LoggingSetup.ServedItem] = $"{name} v{served.Version}, {inputs.Count} image(s), batch of {result.BatchSize}";
                return TypedResults.Ok(new PredictResponse(name, served.Version, PredictionBuilder.Build(served.Model, result.Outputs, inputs.Count, topK)));
            }
            catch (PredictInputException e)
            {
                return TypedResults.Problem(title: e.Title, detail: e.Message, statusCode: e.Status);
            }
        }
    }

    /// <summary>The <c>top_k</c> query: a positive integer, <see cref="DefaultTopK"/> when absent.</summary>
    internal static bool TryReadTopK(string? text, out int topK, out string? error)
    {
        (topK, error) = (DefaultTopK, null);
        if (string.IsNullOrEmpty(text)) return true;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out topK) && topK >= 1) return true;
        error = $"top_k \"{text}\" is not a positive integer.";
        return false;
    }
}
