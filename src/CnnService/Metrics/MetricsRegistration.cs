using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace CnnService.Metrics;

/// <summary>
/// Metrics through <c>System.Diagnostics.Metrics</c>, exported at <c>GET /metrics</c> in the Prometheus text format by
/// OpenTelemetry's exporter: the service's own instruments (<see cref="InferenceMetrics"/>, <see cref="ServiceGauges"/>,
/// the gRPC calls), ASP.NET Core's <c>http.server.*</c> and Kestrel's, and the runtime's (<c>dotnet.*</c>: process
/// CPU time and memory, GC, thread pool, exceptions).
/// </summary>
public static class MetricsRegistration
{
    private static readonly string[] Meters =
    [
        InferenceMetrics.MeterName,
        "Microsoft.AspNetCore.Hosting",       // http.server.request.duration, http.server.active_requests
        "Microsoft.AspNetCore.Server.Kestrel", // connections
        "Microsoft.AspNetCore.Diagnostics",    // unhandled exceptions
        "System.Runtime",                      // dotnet.process.cpu.time, dotnet.process.memory.working_set, dotnet.gc.*
    ];

    public static IServiceCollection AddServiceMetrics(this IServiceCollection services)
    {
        services.AddSingleton<InferenceMetrics>();
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("cnnservice"))
            .WithMetrics(metrics => metrics
                .AddMeter(Meters)
                // A scrape reads the counts as they are now, never an answer cached from an earlier scrape.
                .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        services.ConfigureOpenTelemetryMeterProvider(OnlyThisHost);
        return services;
    }

    /// <summary>
    /// Meters are matched by name across the process: count only the instruments of this host's own meter factory (a
    /// process holding two hosts, as the tests do, would otherwise show each host the other's requests).
    /// </summary>
    private static void OnlyThisHost(IServiceProvider provider, MeterProviderBuilder builder)
    {
        IMeterFactory own = provider.GetRequiredService<IMeterFactory>();
        builder.AddView(instrument => instrument.Meter.Scope is IMeterFactory scope && scope != own ? MetricStreamConfiguration.Drop : null);
    }

    public static IEndpointConventionBuilder MapMetricsEndpoints(this IEndpointRouteBuilder app) =>
        app.MapPrometheusScrapingEndpoint("/metrics")
            .WithTags("Health")
            .WithName("Metrics")
            .WithSummary("Prometheus metrics");
}
