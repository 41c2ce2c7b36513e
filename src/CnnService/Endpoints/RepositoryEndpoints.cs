using System.Text.Json;
using CnnService.Models;
using CnnService.Models.Management;
using CnnService.Protocols.V2;
using CnnService.Security;

namespace CnnService.Endpoints;

/// <summary>
/// Triton's model repository extension: <c>POST /v2/repository/index</c> (GET too), <c>POST /v2/repository/models/{name}/load</c>
/// and <c>.../unload</c>. Protected like train jobs (<see cref="ApiKeyFilter"/>). Unload stops serving every version of the
/// model (its predicts are 404s) and the watcher leaves it unloaded, its files untouched, until load; refusals are
/// <c>{"error": "..."}</c> as in the rest of v2.
/// </summary>
public static class RepositoryEndpoints
{
    public static RouteGroupBuilder MapRepositoryEndpoints(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder group = app.MapGroup("/v2/repository").WithTags("Model repository");

        group.MapMethods("/index", [HttpMethods.Post, HttpMethods.Get], IndexAsync)
            .RequireApiKey()
            .WithName("V2RepositoryIndex")
            .WithSummary("Every model version on disk or served, with its state")
            .WithDescription("[{\"name\", \"version\", \"state\": \"READY\" | \"LOADING\" | \"UNAVAILABLE\", \"reason\"}]. A POST body {\"ready\": true} " +
                             "(or ?ready=true) lists only READY versions.")
            .DisableAntiforgery();

        group.MapPost("/models/{name}/load", (string name, HttpRequest request, ModelRepository repository, CancellationToken cancellationToken) =>
                ChangeAsync(request, () => repository.LoadModelAsync(name, cancellationToken), cancellationToken))
            .RequireApiKey()
            .WithName("V2RepositoryLoad")
            .WithSummary("Load (or reload) a model: serve its versions on disk again after an unload")
            .WithDescription("200 once its versions are loaded and warm; 400 when none loads, 404 when there is no such model.")
            .DisableAntiforgery();

        group.MapPost("/models/{name}/unload", (string name, HttpRequest request, ModelRepository repository, CancellationToken cancellationToken) =>
                ChangeAsync(request, () => repository.UnloadModelAsync(name, cancellationToken), cancellationToken))
            .RequireApiKey()
            .WithName("V2RepositoryUnload")
            .WithSummary("Unload a model: stop serving all its versions, keeping its files")
            .WithDescription("Requests in flight finish; later ones are 404 until the model is loaded again. The state is the server's, " +
                             "not the disk's: a restart serves the model again.")
            .DisableAntiforgery();

        return group;
    }

    private static async Task<IResult> IndexAsync(HttpRequest request, ModelRepository repository, CancellationToken cancellationToken)
    {
        bool readyOnly = bool.TryParse(request.Query["ready"], out bool ready) && ready;
        JsonElement? body;
        try
        {
            body = await ReadBodyAsync(request, cancellationToken);
        }
        catch (JsonException e)
        {
            return V2Results.Error(StatusCodes.Status400BadRequest, $"The index request is not JSON: {e.Message}");
        }

        if (body is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty("ready", out JsonElement r))
        {
            if (r.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                return V2Results.Error(StatusCodes.Status400BadRequest, "\"ready\" must be true or false.");
            readyOnly = r.GetBoolean();
        }

        return TypedResults.Ok(repository.Index(readyOnly));
    }

    /// <summary>Runs a load or unload. Triton's optional parameters that override a model's files or config are not supported.</summary>
    private static async Task<IResult> ChangeAsync(HttpRequest request, Func<Task> change, CancellationToken cancellationToken)
    {
        try
        {
            if (await ReadBodyAsync(request, cancellationToken) is { ValueKind: JsonValueKind.Object } body
                && body.TryGetProperty("parameters", out JsonElement parameters) && parameters.ValueKind == JsonValueKind.Object)
            {
                foreach (JsonProperty p in parameters.EnumerateObject())
                {
                    if (p.Name == "config" || p.Name.StartsWith("file:", StringComparison.Ordinal))
                        return V2Results.Error(StatusCodes.Status400BadRequest,
                            $"Parameter \"{p.Name}\" is not supported: upload a version with POST /v1/models/{{name}}/versions instead.");
                }
            }

            await change();
            return TypedResults.Ok();
        }
        catch (JsonException e)
        {
            return V2Results.Error(StatusCodes.Status400BadRequest, $"The request body is not JSON: {e.Message}");
        }
        catch (RepositoryException e)
        {
            return Error(e);
        }
    }

    /// <summary>An optional small JSON body (empty is none).</summary>
    private static async Task<JsonElement?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (HttpMethods.IsGet(request.Method) || request.ContentLength == 0) return null;
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        if (buffer.Length == 0) return null;
        using JsonDocument document = JsonDocument.Parse(buffer.ToArray());
        return document.RootElement.Clone();
    }

    internal static IResult Error(RepositoryException e) => V2Results.Error(e.Kind switch
    {
        RepositoryErrorKind.NotFound => StatusCodes.Status404NotFound,
        RepositoryErrorKind.Conflict => StatusCodes.Status409Conflict,
        RepositoryErrorKind.Unsupported => StatusCodes.Status415UnsupportedMediaType,
        _ => StatusCodes.Status400BadRequest,
    }, e.Message);
}
