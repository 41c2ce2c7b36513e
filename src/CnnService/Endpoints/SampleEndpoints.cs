using CnnService.Contracts;
using CnnService.Models;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CnnService.Endpoints;

/// <summary><c>GET /v1/models/{name}/samples</c> and <c>.../samples/{file}</c>: the sample images shipped beside a model (see <see cref="ModelSamples"/>).</summary>
public static class SampleEndpoints
{
    public static RouteGroupBuilder MapSampleEndpoints(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder group = app.MapGroup("/v1/models/{name}/samples").WithTags("Models");

        group.MapGet("/", List)
            .WithName("ListSamples")
            .WithSummary("List a model's sample images")
            .WithDescription("Images shipped in models/<name>/samples/ with their true labels (from samples.json), to try predict and explain with.");

        group.MapGet("/{file}", Get)
            .WithName("GetSample")
            .WithSummary("One sample image");

        return group;
    }

    private static Results<Ok<SampleList>, ProblemHttpResult> List(string name, ModelRepository repository)
    {
        if (!repository.Models.ContainsKey(name)) return NotFound($"Model \"{name}\" is not served.");
        try
        {
            var samples = ModelSamples.List(repository.Root, name)
                .Select(s => new SampleImage(s.File, s.Label, $"/v1/models/{Uri.EscapeDataString(name)}/samples/{Uri.EscapeDataString(s.File)}"))
                .ToList();
            return TypedResults.Ok(new SampleList(name, samples));
        }
        catch (InvalidDataException e)
        {
            return TypedResults.Problem(title: "Broken samples manifest", detail: e.Message, statusCode: StatusCodes.Status500InternalServerError);
        }
    }

    private static Results<PhysicalFileHttpResult, ProblemHttpResult> Get(string name, string file, ModelRepository repository)
    {
        if (!repository.Models.ContainsKey(name)) return NotFound($"Model \"{name}\" is not served.");
        if (!ModelSamples.TryGetFile(repository.Root, name, file, out string path, out string contentType))
            return NotFound($"Model {name} has no sample \"{file}\".");
        return TypedResults.PhysicalFile(path, contentType);
    }

    private static ProblemHttpResult NotFound(string detail) => TypedResults.Problem(title: "Not found", detail: detail, statusCode: StatusCodes.Status404NotFound);
}
