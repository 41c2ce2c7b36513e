using System.Diagnostics;

namespace CnnService.Metrics;

/// <summary>
/// Times every request and counts it under its route pattern (not the raw path, so that ids and model
/// do not explode the label set) and the model it was served by: an endpoint names the model in
/// <see cref="ModelItem"/> only once it found it, so made-up names never become labels.
/// </summary>
public sealed class RequestMetricsMiddleware(RequestDelegate next, ServiceMetrics metrics)
{
    public const string ModelItem = "cnn.model";

    public async Task InvokeAsync(HttpContext context)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            string endpoint = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(unmatched)";
            string? model = context.Items.TryGetValue(ModelItem, out object? name) ? name as string : null;
            metrics.ObserveRequest(endpoint, context.Request.Method, context.Response.StatusCode, model, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
    }
}
