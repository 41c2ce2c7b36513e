using System.Globalization;
using CnnService.Contracts;
using CnnService.Engine.Layers;
using CnnService.Explain;
using CnnService.Imaging.Rendering;
using CnnService.Inference;
using CnnService.Models;
using CnnService.Predict;
using CnnService.Protocols.V1;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace CnnService.Endpoints;

/// <summary>
/// Seeing inside a network, on a model's default version or under <c>/versions/{version}</c>:
/// <c>POST explain</c> (one image in; the prediction and every layer's activation maps out),
/// <c>GET filters/{layer}.png</c> (a conv layer's kernels), and <c>activations/{layer}.png</c>
/// (one layer's maps in one picture: GET with the <c>id</c> of an explain answer, or POST an image).
/// </summary>
public static class ExplainEndpoints
{
    public const int MinMapSize = 8, MaxMapSize = 512;

    public static RouteGroupBuilder MapExplainEndpoints(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder group = app.MapGroup("/v1/models/{name}").WithTags("Explain");
        foreach (string prefix in new[] { "", "/versions/{version}" })
        {
            string versioned = prefix.Length == 0 ? "" : "Version";
            group.MapPost(prefix + "/explain", ExplainAsync)
                .WithName("Explain" + versioned)
                .WithSummary("Show what every layer makes of one image")
                .WithDescription("Same bodies as predict, with exactly one image. Returns the prediction, the input as the network saw it, and per layer its output shape, value range, colour scale and either one PNG per channel (base64, \"maps\") or the values of a vector layer. Query: layer (name or index) for one layer only, size (pixels a side of a map, 8..512), top_k.")
                .ProducesModelProblems()
                .DisableAntiforgery();
            group.MapGet(prefix + "/filters/{layer}.png", Filters)
                .WithName("Filters" + versioned)
                .WithSummary("A conv layer's kernels as one PNG mosaic")
                .WithDescription("Each kernel normalised on its own; RGB tiles when the layer has 3 input channels, otherwise one row of tiles (one per input channel) per filter.");
            group.MapGet(prefix + "/activations/{layer}.png", CachedActivations)
                .WithName("CachedActivations" + versioned)
                .WithSummary("One layer's activation maps, of an earlier explain call, as one PNG")
                .WithDescription("Query id: the id of an explain answer (kept for Explain:CacheSeconds); size as in explain.");
            group.MapPost(prefix + "/activations/{layer}.png", PostedActivationsAsync)
                .WithName("Activations" + versioned)
                .WithSummary("One layer's activation maps, for a posted image, as one PNG")
                .ProducesModelProblems(StatusCodes.Status422UnprocessableEntity)
                .DisableAntiforgery();
        }

        return group;
    }

    private static async Task<Results<Ok<ExplainResponse>, ProblemHttpResult>> ExplainAsync(
        string name, HttpContext context, InferenceService inference, PredictRequestReader reader, Explainer explainer, IOptions<ExplainOptions> options)
    {
        if (!VersionRoute.TryRead(context, out int? version, out ProblemHttpResult problem)) return problem;
        if (!TopKQuery.TryRead(context, out int topK, out string? topKError))
            return V1Problems.BadRequest("Invalid top_k", topKError!);
        if (!TryReadSize(context, options.Value, out int size, out problem)) return problem;
        try
        {
            using ModelCall call = inference.Begin(context, name, version);
            int? only = null;
            if (context.Request.Query["layer"].ToString() is { Length: > 0 } layerText)
            {
                if (!LayerSelector.TryResolve(LayerSelector.NamesOf(call.Version.Model), layerText, out int index, out string error)) return V1Problems.NotFound("Unknown layer", error);
                only = index;
            }

            Explanation explanation = await TraceAsync(context, call.Version, reader, explainer);
            return TypedResults.Ok(Explainer.Describe(explanation, call.Version.Model, only, topK, size));
        }
        catch (InferenceException e)
        {
            return V1Problems.From(context, e);
        }
    }

    private static Results<FileContentHttpResult, ProblemHttpResult> Filters(
        string name, string layer, HttpContext context, InferenceService inference)
    {
        if (!VersionRoute.TryRead(context, out int? version, out ProblemHttpResult problem)) return problem;
        try
        {
            using ModelCall call = inference.Begin(context, name, version);
            ModelVersion served = call.Version;
            if (!LayerSelector.TryResolve(LayerSelector.NamesOf(served.Model), layer, out int index, out string error)) return V1Problems.NotFound("Unknown layer", error);
            if (served.Model.Layers[index] is not IConvolution conv)
                return V1Problems.BadRequest("Not a conv layer", $"Layer {layer} is {served.Model.Layers[index].Type}; filters are drawn for conv2d layers.");
            return Png(() => Explainer.Filters(conv));
        }
        catch (InferenceException e)
        {
            return V1Problems.From(context, e);
        }
    }

    private static Results<FileContentHttpResult, ProblemHttpResult> CachedActivations(
        string name, string layer, string? id, HttpContext context, ExplainCache cache, IOptions<ExplainOptions> options)
    {
        if (!VersionRoute.TryRead(context, out int? version, out ProblemHttpResult problem)) return problem;
        if (!TryReadSize(context, options.Value, out int size, out problem)) return problem;
        if (string.IsNullOrEmpty(id))
            return V1Problems.BadRequest("Missing id", "Give the id of an explain answer (?id=...), or POST an image to this URL.");
        if (!cache.TryGet(id, out Explanation explanation) || explanation.Model != name || (version is int v && explanation.Version != v))
            return V1Problems.NotFound("Unknown explanation", $"No explanation \"{id}\" of model {name}{(version is null ? "" : $" version {version}")}: it has expired or never existed; explain the image again.");

        if (!LayerSelector.TryResolve(explanation.LayerNames, layer, out int index, out string error)) return V1Problems.NotFound("Unknown layer", error);
        return Png(() => Explainer.ActivationMosaic(explanation, index, size));
    }

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> PostedActivationsAsync(
        string name, string layer, HttpContext context, InferenceService inference, PredictRequestReader reader, Explainer explainer, IOptions<ExplainOptions> options)
    {
        if (!VersionRoute.TryRead(context, out int? version, out ProblemHttpResult problem)) return problem;
        if (!TryReadSize(context, options.Value, out int size, out problem)) return problem;
        try
        {
            using ModelCall call = inference.Begin(context, name, version);
            if (!LayerSelector.TryResolve(LayerSelector.NamesOf(call.Version.Model), layer, out int index, out string error)) return V1Problems.NotFound("Unknown layer", error);
            Explanation explanation = await TraceAsync(context, call.Version, reader, explainer);
            return Png(() => Explainer.ActivationMosaic(explanation, index, size));
        }
        catch (InferenceException e)
        {
            return V1Problems.From(context, e);
        }
    }

    /// <summary>Reads exactly one image (any body predict takes) and traces it.</summary>
    private static async Task<Explanation> TraceAsync(HttpContext context, ModelVersion version, PredictRequestReader reader, Explainer explainer)
    {
        using PredictInputs inputs = await reader.ReadAsync(context.Request, version.Model.Spec.Input, context.RequestAborted);
        if (inputs.Count != 1)
            throw InferenceException.Invalid($"Explain takes exactly one image; the request holds {inputs.Count}.");
        return explainer.Trace(version, inputs.Buffer.AsSpan(0, version.Model.InputShape.Size));
    }

    private static bool TryReadSize(HttpContext context, ExplainOptions options, out int size, out ProblemHttpResult problem)
    {
        problem = null!;
        size = options.MapSize;
        string? text = context.Request.Query["size"];
        if (string.IsNullOrEmpty(text)) return true;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out size) && size is >= MinMapSize and <= MaxMapSize) return true;
        problem = V1Problems.BadRequest("Invalid size", $"size \"{text}\" is not a whole number of pixels from {MinMapSize} to {MaxMapSize}.");
        return false;
    }

    private static Results<FileContentHttpResult, ProblemHttpResult> Png(Func<byte[]> draw)
    {
        try
        {
            return TypedResults.File(draw(), "image/png");
        }
        catch (RenderTooLargeException e)
        {
            return TypedResults.Problem(title: "Too large to draw", detail: e.Message, statusCode: StatusCodes.Status422UnprocessableEntity);
        }
    }
}
