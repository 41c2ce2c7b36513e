using System.Globalization;
using System.Text.Json;
using CnnService.Models;
using CnnService.Models.Management;
using CnnService.Protocols.V2;
using CnnService.Security;
using Microsoft.Extensions.Options;

namespace CnnService.Endpoints;

/// <summary>
/// Managing a model's versions, protected like train jobs (<see cref="ApiKeyFilter"/>): <c>POST /v1/models/{name}/versions</c>
/// uploads one (validated, loaded and warmed up before it is written in place as the next version), <c>PUT /v1/models/{name}/default</c>
/// pins the default version in serving.json, <c>DELETE /v1/models/{name}/versions/{version}</c> retires and removes one that is not the
/// default. Refusals are <c>{"error": "..."}</c>; a refused upload leaves nothing on disk.
/// </summary>
public static class ModelVersionUploadEndpoints
{
    public sealed record UploadedVersion(string Name, int Version, int? DefaultVersion, string State);

    public static RouteGroupBuilder MapModelVersionUploadEndpoints(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder group = app.MapGroup("/v1/models/{name}").WithTags("Model management");
        long maxUpload = app.ServiceProvider.GetRequiredService<IOptions<ModelUploadOptions>>().Value.MaxUploadBytes;

        group.MapPost("/versions", UploadAsync)
            .RequireApiKey()
            .WithMetadata(new BodySizeLimit(maxUpload))
            .WithName("UploadModelVersion")
            .WithSummary("Upload a new version of a model")
            .WithDescription("multipart/form-data with model.json and weights.safetensors (or model.onnx with optional config.json and labels.txt, " +
                             "or one .tar.gz/.zip of a version folder), or the bare bytes of a .tar.gz, a .zip or an .onnx file (application/octet-stream). " +
                             "The model is loaded and warmed up before it is renamed into place as the next version; 201 with its Location. " +
                             "?promote=false keeps the current default version (pinned); otherwise the new version becomes the default. " +
                             "400 says what is wrong and leaves nothing behind; archive entries with absolute paths, '..', links, devices " +
                             "or past Models:MaxUploadEntryBytes / Models:MaxUploadBytes / Models:MaxUploadEntries are refused.")
            .DisableAntiforgery();

        group.MapPut("/default", SetDefaultAsync)
            .RequireApiKey()
            .WithName("SetDefaultModelVersion")
            .WithSummary("Promote a version to the default")
            .WithDescription("{\"version\": 3} pins version 3 in the model's serving.json (as train jobs do); {\"version\": null} removes the pin, " +
                             "so the newest version is the default.")
            .DisableAntiforgery();

        group.MapDelete("/versions/{version}", DeleteAsync)
            .RequireApiKey()
            .WithName("DeleteModelVersion")
            .WithSummary("Retire and delete a version that is not the default")
            .WithDescription("204; requests in flight on it finish. 409 for the default version or a model's only version, 404 for an unknown one.");

        return group;
    }

    private static async Task<IResult> UploadAsync(string name, HttpContext context, ModelRepository repository, IOptions<ModelUploadOptions> options)
    {
        if (!ModelDirectory.IsValidName(name))
            return V2Results.Error(StatusCodes.Status400BadRequest, $"\"{name}\" is not a model name: letters, digits, '-', '_' and '.', not starting with '.'.");
        bool promote = true;
        if (context.Request.Query.TryGetValue("promote", out var promoteText) && !bool.TryParse(promoteText, out promote))
            return V2Results.Error(StatusCodes.Status400BadRequest, "promote must be true or false.");

        // Staged in the model's own folder (one file system, so the final rename is atomic), hidden from the watcher;
        // the inner folder carries the model's name, which an ONNX model without one takes from its folder.
        string modelFolder = Path.Combine(repository.Root, name);
        bool existed = Directory.Exists(modelFolder);
        string scratch = Path.Combine(modelFolder, $".upload-{Guid.NewGuid():N}");
        string staging = Path.Combine(scratch, name);
        Directory.CreateDirectory(staging);
        try
        {
            await new VersionUploadReader(staging, scratch, options.Value).ReadAsync(context.Request, context.RequestAborted);
            int version = await repository.PublishUploadAsync(name, staging, promote, context.RequestAborted);
            int? defaultVersion = repository.Models.GetValueOrDefault(name)?.Default?.Version;
            return TypedResults.Created($"/v1/models/{name}/versions/{version.ToString(CultureInfo.InvariantCulture)}",
                new UploadedVersion(name, version, defaultVersion, RepositoryIndexEntry.Ready));
        }
        catch (UploadRefusedException e)
        {
            return V2Results.Error(StatusCodes.Status400BadRequest, e.Message);
        }
        catch (RepositoryException e)
        {
            return RepositoryEndpoints.Error(e);
        }
        catch (BadHttpRequestException e)
        {
            return V2Results.Error(e.StatusCode, e.Message);
        }
        finally
        {
            TryDelete(scratch, recursive: true);
            if (!existed) TryDelete(modelFolder, recursive: false); // a new model's folder, if nothing landed in it
        }
    }

    private static async Task<IResult> SetDefaultAsync(string name, HttpRequest request, ModelRepository repository, CancellationToken cancellationToken)
    {
        int? version;
        try
        {
            using JsonDocument body = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
            if (body.RootElement.ValueKind != JsonValueKind.Object || !body.RootElement.TryGetProperty("version", out JsonElement v))
                return V2Results.Error(StatusCodes.Status400BadRequest, "Send {\"version\": N} (or {\"version\": null} for the newest).");
            if (v.ValueKind == JsonValueKind.Null) version = null;
            else if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n) && n > 0) version = n;
            else if (v.ValueKind == JsonValueKind.String && ModelDirectory.TryParseVersion(v.GetString()!, out int s)) version = s;
            else return V2Results.Error(StatusCodes.Status400BadRequest, "\"version\" must be a positive integer or null.");
        }
        catch (JsonException e)
        {
            return V2Results.Error(StatusCodes.Status400BadRequest, $"The request body is not JSON: {e.Message}");
        }

        try
        {
            int? now = await repository.SetDefaultAsync(name, version, cancellationToken);
            return TypedResults.Ok(new { name, default_version = now });
        }
        catch (RepositoryException e)
        {
            return RepositoryEndpoints.Error(e);
        }
    }

    private static async Task<IResult> DeleteAsync(string name, string version, ModelRepository repository, CancellationToken cancellationToken)
    {
        if (!ModelDirectory.TryParseVersion(version, out int v))
            return V2Results.Error(StatusCodes.Status400BadRequest, $"\"{version}\" is not a version: a positive integer.");
        try
        {
            await repository.DeleteVersionAsync(name, v, cancellationToken);
            return TypedResults.NoContent();
        }
        catch (RepositoryException e)
        {
            return RepositoryEndpoints.Error(e);
        }
    }

    private static void TryDelete(string folder, bool recursive)
    {
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not empty (another upload started in it) or gone: nothing of ours is left to remove.
        }
    }
}
