using System.Diagnostics;
using System.Diagnostics.Metrics;
using CnnService.Metrics;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace CnnService.Protocols.Grpc;

/// <summary>
/// Times every gRPC call by its gRPC status, which the HTTP metrics cannot see: a refused call still rides on an HTTP
/// 200. OpenTelemetry's <c>rpc.server.call.duration</c> with its <c>rpc.system</c>, <c>rpc.service</c>,
/// <c>rpc.method</c> and <c>rpc.grpc.status_code</c> attributes (exported as <c>rpc_server_call_duration_seconds</c>).
/// </summary>
public sealed class GrpcCallMetrics : Interceptor
{
    private readonly Histogram<double> _calls;

    public GrpcCallMetrics(InferenceMetrics metrics) =>
        _calls = metrics.Meter.CreateHistogram("rpc.server.call.duration", "s", "gRPC calls served, by service, method and gRPC status code.",
            tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = InferenceMetrics.SecondsBuckets });

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        long started = Stopwatch.GetTimestamp();
        StatusCode status = StatusCode.Unknown;
        try
        {
            TResponse response = await continuation(request, context);
            status = context.Status.StatusCode;
            return response;
        }
        catch (Exception e)
        {
            status = StatusOf(e, context);
            throw;
        }
        finally
        {
            Record(context.Method, status, started);
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        long started = Stopwatch.GetTimestamp();
        StatusCode status = StatusCode.Unknown;
        try
        {
            await continuation(requestStream, responseStream, context);
            status = context.Status.StatusCode;
        }
        catch (Exception e)
        {
            status = StatusOf(e, context);
            throw;
        }
        finally
        {
            Record(context.Method, status, started);
        }
    }

    /// <summary>What the client is told: the status thrown, or CANCELLED when it went away, else UNKNOWN (as Grpc.AspNetCore answers).</summary>
    private static StatusCode StatusOf(Exception e, ServerCallContext context) => e switch
    {
        RpcException rpc => rpc.StatusCode,
        OperationCanceledException when context.CancellationToken.IsCancellationRequested => StatusCode.Cancelled,
        _ => StatusCode.Unknown,
    };

    /// <summary><paramref name="method"/> is "/package.Service/Method".</summary>
    private void Record(string method, StatusCode status, long started)
    {
        int slash = method.LastIndexOf('/');
        var tags = new TagList
        {
            { "rpc.system", "grpc" },
            { "rpc.service", slash > 0 ? method[1..slash] : method },
            { "rpc.method", slash >= 0 ? method[(slash + 1)..] : method },
            { "rpc.grpc.status_code", (int)status },
        };
        _calls.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
    }
}
