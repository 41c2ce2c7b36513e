using CnnService.Metrics;

namespace CnnService.Endpoints;

/// <summary><c>GET /metrics</c> in the Prometheus text exposition format.</summary>
public static class MetricsEndpoints
{
    public static IEndpointConventionBuilder MapMetricsEndpoints(this IEndpointRouteBuilder app) =>
        app.MapGet("/metrics", (ServiceMetrics metrics) => TypedResults.Text(metrics.ToPrometheusText(), "text/plain; version=0.0.4; charset=utf-8"))
            .WithTags("Health")
            .WithName("Metrics")
            .WithSummary("Prometheus metrics");
}
