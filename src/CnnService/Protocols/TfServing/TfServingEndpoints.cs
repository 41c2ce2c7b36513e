using CnnService.Contracts;
using CnnService.Endpoints;
using CnnService.Inference;
using CnnService.Models;
using CnnService.Predict;

namespace CnnService.Protocols.TfServing;

/// <summary>
/// TensorFlow Serving's REST API over the same repository, batcher and limits as /v1 predict:
/// <c>POST /v1/models/{name}[/versions/{version}]:predict</c> and <c>:classify</c>, and
/// <c>GET /v1/models/{name}[/versions/{version}]/metadata</c>. Bodies as <see cref="TfServingRequestReader"/>
/// reads them, whatever their Content-Type (curl -d sends form-urlencoded), run by the shared <see cref="InferenceService"/>;
/// every error is TF Serving's <c>{"error": "..."}</c> (<see cref="TfServingErrors"/>).
/// The ':' verb routes are complex segments, distinct from GET <c>/v1/models/{name}</c> and POST <c>.../predict</c>.
/// No <c>Accepts</c> metadata: it would refuse (415) the form-urlencoded Content-Type curl -d sends.
/// </summary>
public static class TfServingEndpoints
{
    public static RouteGroupBuilder MapTfServingEndpoints(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder group = app.MapGroup("/v1/models").WithTags("TensorFlow Serving");
        foreach (string prefix in new[] { "/{name}", "/{name}/versions/{version}" })
        {
            string versioned = prefix.EndsWith("{version}", StringComparison.Ordinal) ? "Version" : "";
            group.MapPost(prefix + ":predict", PredictAsync)
                .WithName("TfServingPredict" + versioned)
                .WithSummary("TensorFlow Serving predict: probabilities for each instance")
                .WithDescription("JSON {\"instances\": [...]} (row, answered {\"predictions\": [...]}) or {\"inputs\": ...} (columnar, answered {\"outputs\": [...]}). An instance is a C x H x W nested array of normalised numbers or an encoded image {\"b64\": \"...\"}, bare or named {\"image\": ...} (an ONNX model's own input name instead of image: see .../metadata). signature_name, when given, must be serving_default.")
                .Produces<TfPredictions>()
                .ProducesTfErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status429TooManyRequests)
                .DisableAntiforgery();
            group.MapPost(prefix + ":classify", ClassifyAsync)
                .WithName("TfServingClassify" + versioned)
                .WithSummary("TensorFlow Serving classify: the top classes of each example as [label, score] pairs")
                .WithDescription("JSON {\"examples\": [{\"image\": {\"b64\": \"...\"} or a C x H x W array}, ...]}, answered {\"results\": [[[label, score], ...], ...]}, most probable first. Query top_k (default 5).")
                .Produces<TfClassification>()
                .ProducesTfErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status429TooManyRequests)
                .DisableAntiforgery();
            group.MapPost(prefix + ":regress", Regress)
                .WithName("TfServingRegress" + versioned)
                .WithSummary("TensorFlow Serving regress: refused, the models are classifiers")
                .ProducesTfErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound)
                .DisableAntiforgery();
            group.MapGet(prefix + "/metadata", Metadata)
                .WithName("TfServingMetadata" + versioned)
                .WithSummary("TensorFlow Serving model metadata: the serving_default signature")
                .Produces<TfMetadataResponse>()
                .ProducesTfErrors(StatusCodes.Status404NotFound);
        }

        return group;
    }

    /// <summary>Declares, for the OpenAPI document, the <c>{"error"}</c> answers an endpoint gives with these statuses.</summary>
    private static RouteHandlerBuilder ProducesTfErrors(this RouteHandlerBuilder builder, params int[] statuses)
    {
        foreach (int status in statuses) builder.Produces<TfError>(status);
        return builder;
    }

    /// <summary>Tags this protocol's requests in the log line.</summary>
    private const InferenceProtocol Protocol = InferenceProtocol.TfServing;

    private static Task<IResult> PredictAsync(string name, HttpContext context, InferenceService inference, PredictRequestReader reader) =>
        InferAsync(name, classify: false, context, inference, reader);

    private static Task<IResult> ClassifyAsync(string name, HttpContext context, InferenceService inference, PredictRequestReader reader) =>
        InferAsync(name, classify: true, context, inference, reader);

    /// <summary>The adapter: the body read into the model's input, run by the core, answered in the body's format or as TF Serving's error.</summary>
    private static async Task<IResult> InferAsync(string name, bool classify, HttpContext context, InferenceService inference, PredictRequestReader reader)
    {
        try
        {
            int? version = VersionRoute.Read(context);
            int topK = 0;
            if (classify && !TopKQuery.TryRead(context, out topK, out string? topKError))
                throw InferenceException.Invalid(topKError!);
            using ModelCall call = inference.BeginInference(context, name, version, Protocol);
            using PredictInputs inputs = reader.CreateInputs(call.Version.Model.Spec.Input);
            TfServingFormat format = await ReadAsync(context, classify, call.Version, reader, inputs);
            InferenceResult result = await inference.InferAsync(call, inputs);

            List<Prediction> predictions = PredictionBuilder.Build(result, topK);
            return format switch
            {
                TfServingFormat.Row => TypedResults.Json(new TfPredictions([.. predictions.Select(p => p.Probabilities)])),
                TfServingFormat.Columnar => TypedResults.Json(new TfOutputs([.. predictions.Select(p => p.Probabilities)])),
                _ => TypedResults.Json(new TfClassification([.. predictions.Select(p => p.Top.Select(c => new object[] { c.Label, c.Probability }).ToList())])),
            };
        }
        catch (InferenceException e)
        {
            return TfServingErrors.From(context, e);
        }
    }

    private static async Task<TfServingFormat> ReadAsync(HttpContext context, bool classify, ModelVersion served, PredictRequestReader reader, PredictInputs inputs)
    {
        (byte[] body, int length) = await reader.ReadBodyAsync(context.Request, context.RequestAborted);
        try
        {
            return TfServingRequestReader.Read(body.AsSpan(0, length), classify, TfServingSignature.InputName(served.Model), served.Model.Spec.Input, inputs, reader.DecodeImage);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(body);
        }
    }

    private static IResult Metadata(string name, HttpContext context, InferenceService inference)
    {
        try
        {
            using ModelCall call = inference.Begin(context, name, VersionRoute.Read(context), Protocol);
            return TypedResults.Json(TfServingSignature.Metadata(call.Version));
        }
        catch (InferenceException e)
        {
            return TfServingErrors.From(context, e);
        }
    }

    /// <summary>TF Serving's third verb, for a model with a regression signature; ours have none, so a known model or version is a 400 (as TF Serving answers a model without one).</summary>
    private static IResult Regress(string name, HttpContext context, InferenceService inference)
    {
        try
        {
            inference.Begin(context, name, VersionRoute.Read(context), Protocol).Dispose();  // an unknown model or version is a 404 here too
        }
        catch (InferenceException e)
        {
            return TfServingErrors.From(context, e);
        }

        return TfServingErrors.Error(StatusCodes.Status400BadRequest,
            $"Model \"{name}\" has no regression signature: its only signature, \"{TfServingSignature.SignatureName}\", is {TfServingSignature.MethodName} (use :predict or :classify).");
    }
}

/// <summary>The answer to a row-format predict: one probability vector per instance.</summary>
public sealed record TfPredictions(IReadOnlyList<float[]> Predictions);

/// <summary>The answer to a columnar predict: the output tensor, [batch, classes].</summary>
public sealed record TfOutputs(IReadOnlyList<float[]> Outputs);

/// <summary>The answer to classify: per example, [label, score] pairs, most probable first.</summary>
public sealed record TfClassification(IReadOnlyList<List<object[]>> Results);

/// <summary>Every TF Serving error: <c>{"error": "..."}</c>.</summary>
public sealed record TfError(string Error);
