// The HTTP host: wiring only. The protocol-neutral inference path (lease, inputs, batcher, labels, one typed error)
// is in Inference/; each protocol is a thin adapter over it in Protocols/ (V1: /v1 predict; TfServing; V2: Open
// Inference Protocol v2 REST; Grpc: its gRPC service), mapping that error to its own answer in one place. Endpoints shared by every client
// (health, models, explain, samples, page, metrics, train jobs) are in Endpoints/, model serving in Models/ and
// Batching/, request body and image reading in Predict/, the explain view in Explain/ and wwwroot/, metrics in
// Metrics/, set-up helpers in Hosting/.
using System.Text.Json;
using CnnService.Endpoints;
using CnnService.Hosting;
using CnnService.Hosting.Health;
using CnnService.Jobs;
using CnnService.Metrics;
using CnnService.Models.Management;
using CnnService.Predict;
using CnnService.Protocols.Grpc;
using CnnService.Protocols.TfServing;
using CnnService.Protocols.V1;
using CnnService.Protocols.V2;

if (HealthCheckCommand.TryRun(args, out int healthExitCode)) return healthExitCode;  // the container's HEALTHCHECK

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceLogging();
builder.Services.AddProblemDetails();
builder.Services.ConfigureHttpJsonOptions(o =>
{
    o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
    o.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
    o.SerializerOptions.TypeInfoResolverChain.Insert(0, CnnService.Contracts.ContractsJson.Default);  // predict's answer, generated
});
builder.Services.AddServiceMetrics();
builder.Services.AddModelServing(builder.Configuration);
builder.Services.AddServiceOpenApi();
long maxBody = builder.Configuration.GetSection(PredictLimits.Section).Get<PredictLimits>()?.MaxBodyBytes ?? new PredictLimits().MaxBodyBytes;
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = maxBody);
builder.Services.AddTrainJobs(builder.Configuration);
builder.Services.AddModelManagement(builder.Configuration);
builder.Services.AddExplain(builder.Configuration);
builder.Services.AddServiceHealthChecks(builder.Configuration);
builder.Services.AddGrpcInference(builder.Configuration);   // inference.GRPCInferenceService on Grpc:Port (h2c)

var app = builder.Build();
app.Services.AddServiceGauges();

app.UseMiddleware<BodyLimitMiddleware>();
app.UseServiceRequestLogging();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseServiceOpenApi();
app.UseDefaultFiles();   // the explain page, wwwroot/index.html, at /
app.UseStaticFiles();

app.MapHealthEndpoints();
app.MapModelEndpoints();
app.MapPredictEndpoints();
app.MapTfServingEndpoints();
app.MapExplainEndpoints();
app.MapSampleEndpoints();
app.MapPageEndpoints();
app.MapMetricsEndpoints();
app.MapTrainJobEndpoints();
app.MapV2ServerEndpoints();
app.MapV2ModelEndpoints();
app.MapRepositoryEndpoints();
app.MapModelVersionUploadEndpoints();
app.MapGrpcInference();

app.Run();
return 0;

/// <summary>Visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
