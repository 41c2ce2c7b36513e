using CnnService.Contracts;
using CnnService.Models;
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

        group.MapGet("/{name}", (string name, ModelRepository repository, HttpContext context) => Get(name, null, repository, context))
            .WithName("GetModel")
            .WithSummary("Describe a model's default version")
            .WithDescription("Input spec, labels, the layer table (output shapes, parameters, MFLOPs), metrics from model.json, the weights' SHA-256 and when it was loaded.");

        group.MapGet("/{name}/versions/{version}", (string name, string version, ModelRepository repository, HttpContext context) =>
                VersionRoute.TryParse(version, out int v, out var problem) ? Get(name, v, repository, context) : problem)
            .WithName("GetModelVersion")
            .WithSummary("Describe one version of a model");

        return group;
    }

    private static Ok<ModelList> List(ModelRepository repository) =>
        TypedResults.Ok(new ModelList(repository.Models.Values.Select(ModelDescriber.Summarize).ToList()));

    private static Results<Ok<ModelDetails>, ProblemHttpResult> Get(string name, int? version, ModelRepository repository, HttpContext context)
    {
        if (!ModelRequest.TryAcquire(context, repository, name, version, out ModelLease lease, out ProblemHttpResult problem)) return problem;
        using (lease)
        {
            bool isDefault = repository.Models.TryGetValue(name, out ServedModel? model) && model.Default == lease.Version;
            return TypedResults.Ok(ModelDescriber.Describe(lease.Version, isDefault) with
            {
                ModelVersionStatus = Protocols.TfServing.TfServingSignature.Status(model, lease.Version, allVersions: version is null),
            });
        }
    }
}
