using System.Text.Json;
using CnnService.Hosting.Health;
using CnnService.Models;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CnnService.Endpoints;

/// <summary>
/// <c>/health/live</c> (the process answers) and <c>/health/ready</c> (every model loaded and warm, the job
/// store writable, disk free for checkpoints): 200 with <c>{"status": "live" | "ready", "models": n, "checks": [...]}</c>,
/// or 503 with <c>"status": "unhealthy"</c> and each failing check's reason. A load balancer sends traffic only
/// once the first request will not find a cold model.
/// </summary>
public static class HealthEndpoints
{
    public static void MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", Options(HealthRegistration.Live));
        app.MapHealthChecks("/health/ready", Options(HealthRegistration.Ready));
    }

    private static HealthCheckOptions Options(string tag) => new()
    {
        Predicate = check => check.Tags.Contains(tag),
        ResponseWriter = (context, report) => WriteAsync(context, report, tag),
    };

    private static Task WriteAsync(HttpContext context, HealthReport report, string tag)
    {
        int models = context.RequestServices.GetRequiredService<ModelRepository>().Models.Count;
        var body = new
        {
            status = report.Status == HealthStatus.Healthy ? tag : "unhealthy",
            models,
            checks = report.Entries.Select(e => new { name = e.Key, status = e.Value.Status.ToString().ToLowerInvariant(), description = e.Value.Description }),
        };
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }
}
