using System.Reflection;
using CnnService.Hosting.Health;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CnnService.Protocols.V2;

/// <summary>
/// The Open Inference Protocol v2 (KServe / Triton) server endpoints: <c>GET /v2</c> (server metadata),
/// <c>GET /v2/health/live</c> and <c>GET /v2/health/ready</c>. Ready follows the same checks as <c>/health/ready</c>
/// (every model loaded and warm, the job store writable, disk free); as the protocol says, 200 means true and a 4xx false.
/// </summary>
public static class V2ServerEndpoints
{
    /// <summary>The extensions this server really implements, as <c>GET /v2</c> lists them.</summary>
    public static readonly string[] Extensions = ["binary_tensor_data", "classification", "model_repository"];

    public static RouteGroupBuilder MapV2ServerEndpoints(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder group = app.MapGroup("/v2").WithTags("Open Inference Protocol v2");

        group.MapGet("", () => TypedResults.Ok(new V2ServerMetadata("cnnservice", ServerVersion, Extensions)))
            .WithName("V2ServerMetadata")
            .WithSummary("Server metadata: name, version and supported protocol extensions");

        group.MapGet("/health/live", () => TypedResults.Ok(new { live = true }))
            .WithName("V2ServerLive")
            .WithSummary("200 while the server answers");

        group.MapGet("/health/ready", async (HealthCheckService health, CancellationToken cancellationToken) =>
            {
                HealthReport report = await health.CheckHealthAsync(check => check.Tags.Contains(HealthRegistration.Ready), cancellationToken);
                bool ready = report.Status == HealthStatus.Healthy;
                return TypedResults.Json(new { ready }, statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest);
            })
            .WithName("V2ServerReady")
            .WithSummary("200 once every model is loaded and warm (the checks of /health/ready), 400 until then");

        return group;
    }

    private static string ServerVersion { get; } =
        typeof(V2ServerEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";
}
