using System.Globalization;
using System.Reflection;
using CnnService.Protocols.V2;
using CnnService.Hosting.Health;
using CnnService.Inference;
using CnnService.Models;
using Grpc.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CnnService.Protocols.Grpc;

/// <summary>
/// <c>inference.GRPCInferenceService</c>: the Open Inference Protocol's gRPC calls over the same repository, shared
/// <see cref="InferenceService"/> and per-version batchers as REST, so a gRPC request can share a batch with a
/// <c>/v1</c> or v2 REST one. Refusals are the call's status: NOT_FOUND (unknown model or version), INVALID_ARGUMENT
/// (a bad request, naming the input), RESOURCE_EXHAUSTED (past a limit, or the version's queue is full) and
/// UNAVAILABLE (models still loading).
/// </summary>
public sealed class GrpcInferenceEndpoint(ModelRepository repository, InferenceService inference, HealthCheckService health) : GRPCInferenceService.GRPCInferenceServiceBase
{
    private static readonly string ServerVersion =
        typeof(GrpcInferenceEndpoint).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";

    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerLiveResponse { Live = true });

    public override async Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context)
    {
        HealthReport report = await health.CheckHealthAsync(check => check.Tags.Contains(HealthRegistration.Ready), context.CancellationToken);
        return new ServerReadyResponse { Ready = report.Status == HealthStatus.Healthy };
    }

    public override Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerMetadataResponse { Name = "cnnservice", Version = ServerVersion, Extensions = { V2ServerEndpoints.Extensions } });

    /// <summary>False for a model or version that is not served (the answer is the flag, not an error); a malformed version is INVALID_ARGUMENT.</summary>
    public override Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context)
    {
        int? version = ParseVersion(request.Version);
        bool ready = repository.TryAcquire(request.Name, version, out ModelLease lease, out _);
        if (ready) lease.Dispose();
        return Task.FromResult(new ModelReadyResponse { Ready = ready });
    }

    public override Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context)
    {
        using ModelCall call = Begin(request.Name, request.Version, context, inferring: false);
        ModelVersion version = call.Version;
        var response = new ModelMetadataResponse { Name = request.Name, Platform = InferenceSignature.Platform(version) };
        if (repository.Models.TryGetValue(request.Name, out ServedModel? model))
            foreach (int v in model.Loaded.Keys) response.Versions.Add(v.ToString(CultureInfo.InvariantCulture));
        else
            response.Versions.Add(version.Version.ToString(CultureInfo.InvariantCulture));
        response.Inputs.Add(Tensor(InferenceSignature.Input(version.Model)));
        response.Outputs.Add(Tensor(InferenceSignature.Output(version.Model)));
        return Task.FromResult(response);
    }

    public override async Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context)
    {
        using ModelCall call = Begin(request.ModelName, request.ModelVersion, context, inferring: true);
        try
        {
            GrpcInferRequest parsed = GrpcInferRequest.Read(request, call.Version.Model);
            InferenceResult result = await inference.InferAsync(call, parsed.Inputs);
            return GrpcInferResponse.Build(request, parsed, result);
        }
        catch (InferenceException e)
        {
            throw GrpcStatus.From(e);
        }
    }

    /// <summary>The shared first step (lease, log labels, and for an inference its metrics), with its refusals as the call's status.</summary>
    private ModelCall Begin(string name, string versionText, ServerCallContext context, bool inferring)
    {
        int? version = ParseVersion(versionText);
        try
        {
            HttpContext http = context.GetHttpContext();
            return inferring
                ? inference.BeginInference(http, name, version, InferenceProtocol.Grpc)
                : inference.Begin(http, name, version, InferenceProtocol.Grpc);
        }
        catch (InferenceException e)
        {
            throw GrpcStatus.From(e);
        }
    }

    /// <summary>Empty is the default version; otherwise a positive integer, or INVALID_ARGUMENT.</summary>
    private static int? ParseVersion(string text)
    {
        if (text.Length == 0) return null;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int version) && version > 0) return version;
        throw GrpcStatus.From(InferenceException.Invalid($"Version \"{text}\" is not a positive integer."));
    }

    private static ModelMetadataResponse.Types.TensorMetadata Tensor(TensorSignature signature) =>
        new() { Name = signature.Name, Datatype = signature.Datatype, Shape = { signature.Shape } };
}
