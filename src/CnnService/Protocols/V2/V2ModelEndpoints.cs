using System.Buffers;
using System.Globalization;
using CnnService.Endpoints;
using CnnService.Inference;
using CnnService.Models;
using CnnService.Predict;

namespace CnnService.Protocols.V2;

/// <summary>
/// The Open Inference Protocol v2 model endpoints, each with and without <c>/versions/{version}</c> (without: the
/// default version): <c>GET /v2/models/{name}</c> (metadata), <c>GET .../ready</c> and <c>POST .../infer</c>, JSON or
/// with the binary tensor data extension, with the classification extension. Inference runs through the shared
/// <see cref="InferenceService"/> and the version's batcher, holding a lease like <c>/v1</c> predict; refusals are
/// <c>{"error": "..."}</c> with 400, 404, 413 or 429.
/// </summary>
public static class V2ModelEndpoints
{
    public static RouteGroupBuilder MapV2ModelEndpoints(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder group = app.MapGroup("/v2/models/{name}").WithTags("Open Inference Protocol v2");

        foreach (string prefix in (string[])["", "/versions/{version}"])
        {
            string suffix = prefix.Length == 0 ? "" : "Version";
            group.MapGet(prefix, Metadata).WithName("V2ModelMetadata" + suffix).WithSummary("Model metadata: versions, platform, input and output tensors");
            group.MapGet(prefix + "/ready", Ready).WithName("V2ModelReady" + suffix).WithSummary("200 when the model (version) is loaded and warm, 404 when not served");
            group.MapPost(prefix + "/infer", InferAsync).WithName("V2Infer" + suffix)
                .WithSummary("Inference: an Open Inference Protocol v2 request, JSON or binary (Inference-Header-Content-Length)")
                .WithDescription("{\"id\", \"inputs\": [{\"name\": \"input\", \"datatype\", \"shape\", \"data\"}], \"outputs\": [{\"name\": \"output\", \"parameters\": {\"classification\": k, \"binary_data\": true}}]}, "
                    + "the names being the model's own as its metadata gives them (\"input\" and \"output\" for a model.json model, an ONNX model's graph names). "
                    + "The input is FP32/FP16/FP64 [-1, C, H, W] already normalised, an integer type of the same shape holding raw pixels (the model's scale, mean and std are applied), "
                    + "or BYTES [-1] of encoded images (base64 in JSON, raw in binary), decoded and preprocessed as /v1 predict does. Errors are {\"error\": \"...\"}.")
                .DisableAntiforgery();
        }

        return group;
    }

    private const InferenceProtocol Protocol = InferenceProtocol.V2;

    private static IResult Metadata(string name, HttpContext context, ModelRepository repository, InferenceService inference)
    {
        try
        {
            using ModelCall call = inference.Begin(context, name, VersionRoute.Read(context), Protocol);
            ModelVersion version = call.Version;
            string[] versions = repository.Models.TryGetValue(name, out ServedModel? model)
                ? model.Loaded.Keys.Select(v => v.ToString(CultureInfo.InvariantCulture)).ToArray()
                : [version.Version.ToString(CultureInfo.InvariantCulture)];
            return TypedResults.Ok(new V2ModelMetadata(name, versions, InferenceSignature.Platform(version),
                [InferenceSignature.Input(version.Model)], [InferenceSignature.Output(version.Model)]));
        }
        catch (InferenceException e)
        {
            return V2Results.Error(context, e);
        }
    }

    private static IResult Ready(string name, HttpContext context, InferenceService inference)
    {
        try
        {
            using ModelCall call = inference.Begin(context, name, VersionRoute.Read(context), Protocol);
            return TypedResults.Ok(new { name, ready = true });
        }
        catch (InferenceException e)
        {
            return V2Results.Error(context, e);
        }
    }

    /// <summary>The adapter: the request parsed into input tensors, run by the core, written as the protocol's response or error.</summary>
    private static async Task<IResult> InferAsync(string name, HttpContext context, PredictRequestReader reader, InferenceService inference)
    {
        byte[]? body = null;
        try
        {
            using ModelCall call = inference.BeginInference(context, name, VersionRoute.Read(context), Protocol);
            (body, int length) = await reader.ReadBodyAsync(context.Request, context.RequestAborted);
            using V2InferRequest request = V2InferRequest.Parse(body.AsMemory(0, length), context.Request.Headers[V2InferRequest.HeaderLengthHeader], call.Version.Model);
            InferenceResult result = await inference.InferAsync(call, request.Inputs);
            await V2InferResponse.WriteAsync(context.Response, request, result, context.RequestAborted);
            return Results.Empty;
        }
        catch (InferenceException e)
        {
            return V2Results.Error(context, e);
        }
        finally
        {
            if (body is not null) ArrayPool<byte>.Shared.Return(body);
        }
    }
}
