using CnnService.Contracts;
using CnnService.Inference;
using CnnService.Models;
using CnnService.Protocols.V1;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CnnService.Endpoints;

/// <summary>What is served: <c>GET /v1/models</c>, <c>GET /v1/models/{name}</c>, <c>GET /v1/models/{name}/versions/{version}</c>.</summary>
public static class ModelEndpoints
{
    public static RouteGroupBuilder MapModelEndpoints(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder group = app.MapGroup("/v1/models").WithTags("Models");

        group.MapGet("/", List)
            .WithName("ListModels")
            .WithSummary("List the served models")
            .WithDescription("Every model under the models root with its versions (available or failed) and its default version.");

        group.MapGet("/{name}", (string name, ModelRepository repository, InferenceService inference, HttpContext context) => Get(name, null, repository, inference, context))
            .WithName("GetModel")
            .WithSummary("Describe a model's default version")
            .WithDescription("Input spec, labels, the layer table (output shapes, parameters, MFLOPs), metrics from model.json, the weights' SHA-256 and when it was loaded.");

        group.MapGet("/{name}/versions/{version}", (string name, string version, ModelRepository repository, InferenceService inference, HttpContext context) =>
                VersionRoute.TryParse(version, out int v, out var problem) ? Get(name, v, repository, inference, context) : problem)
            .WithName("GetModelVersion")
            .WithSummary("Describe one version of a model");

        return group;
    }

    private static Ok<ModelList> List(ModelRepository repository) =>
        TypedResults.Ok(new ModelList(repository.Models.Values.Select(ModelDescriber.Summarize).ToList()));

    private static Results<Ok<ModelDetails>, ProblemHttpResult> Get(string name, int? version, ModelRepository repository, InferenceService inference, HttpContext context)
    {
        try
        {
            using ModelCall call = inference.Begin(context, name, version);
            bool isDefault = repository.Models.TryGetValue(name, out ServedModel? model) && model.Default == call.Version;
            return TypedResults.Ok(ModelDescriber.Describe(call.Version, isDefault) with
            {
                ModelVersionStatus = Protocols.TfServing.TfServingSignature.Status(model, call.Version, allVersions: version is null),
            });
        }
        catch (InferenceException e)
        {
            return V1Problems.From(context, e);
        }
    }
}
