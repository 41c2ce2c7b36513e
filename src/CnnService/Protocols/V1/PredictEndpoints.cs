using CnnService.Contracts;
using CnnService.Endpoints;
using CnnService.Inference;
using CnnService.Predict;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CnnService.Protocols.V1;

/// <summary>
/// <c>POST /v1/models/{name}/predict</c> and <c>POST /v1/models/{name}/versions/{version}/predict</c>:
/// images (multipart files, a raw image body, base64 in JSON) or normalised instances in, the top
/// classes and every probability out. The request holds a lease on its version from start to end, so a
/// hot swap never pulls the model out from under it; when the version's batch queue is full it is
/// refused at once with 429 and <c>Retry-After</c>.
/// </summary>
public static class PredictEndpoints
{
    public static RouteGroupBuilder MapPredictEndpoints(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder group = app.MapGroup("/v1/models/{name}").WithTags("Predict");

        group.MapPost("/predict", PredictAsync)
            .WithName("Predict")
            .WithSummary("Classify images with a model's default version")
            .WithDescription("multipart/form-data with one or more image files (one prediction per file, in order); a raw image/png, image/jpeg, image/webp, image/gif or image/bmp body; or application/json with {\"instances\": [C x H x W arrays]} or {\"images\": [base64, ...]}. Query top_k (default 5). 429 with Retry-After when the model's queue is full.")
            .ProducesModelProblems(StatusCodes.Status429TooManyRequests)
            .DisableAntiforgery();

        group.MapPost("/versions/{version}/predict", PredictAsync)
            .WithName("PredictVersion")
            .WithSummary("Classify images with one version of a model")
            .ProducesModelProblems(StatusCodes.Status429TooManyRequests)
            .DisableAntiforgery();

        return group;
    }

    /// <summary>The /v1 adapter: its body read into the model's input, run by the core, answered as predictions or a problem.</summary>
    private static async Task<Results<Ok<PredictResponse>, ProblemHttpResult>> PredictAsync(
        string name, HttpContext context, InferenceService inference, PredictRequestReader reader)
    {
        if (!VersionRoute.TryRead(context, out int? version, out ProblemHttpResult problem)) return problem;
        if (!TopKQuery.TryRead(context, out int topK, out string? topKError))
            return V1Problems.BadRequest("Invalid top_k", topKError!);
        try
        {
            using ModelCall call = inference.BeginInference(context, name, version, InferenceProtocol.V1);
            using PredictInputs inputs = await reader.ReadAsync(context.Request, call.Version.Model.Spec.Input, context.RequestAborted);
            InferenceResult result = await inference.InferAsync(call, inputs);
            return TypedResults.Ok(new PredictResponse(name, call.Version.Version, PredictionBuilder.Build(result, topK)));
        }
        catch (InferenceException e)
        {
            return V1Problems.From(context, e);
        }
    }
}
