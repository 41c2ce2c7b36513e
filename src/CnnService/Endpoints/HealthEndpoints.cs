using CnnService.Models;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CnnService.Endpoints;

/// <summary>
/// Liveness (the process answers) and readiness (every model on disk is loaded and has run a warm-up
/// pass): a load balancer sends traffic only once the first request will not find a cold model.
/// </summary>
public static class HealthEndpoints
{
    public sealed record HealthStatus(string Status, int Models);

    public static RouteGroupBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder group = app.MapGroup("/health").WithTags("Health");

        group.MapGet("/live", (ModelRepository repository) => TypedResults.Ok(new HealthStatus("live", repository.Models.Count)))
            .WithName("Live")
            .WithSummary("Liveness: the process is up");

        group.MapGet("/ready", Results<Ok<HealthStatus>, JsonHttpResult<HealthStatus>> (ModelRepository repository) =>
                repository.IsReady
                    ? TypedResults.Ok(new HealthStatus("ready", repository.Models.Count))
                    : TypedResults.Json(new HealthStatus("loading", repository.Models.Count), statusCode: StatusCodes.Status503ServiceUnavailable))
            .WithName("Ready")
            .WithSummary("Readiness: every model is loaded and warmed up");

        return group;
    }
}
