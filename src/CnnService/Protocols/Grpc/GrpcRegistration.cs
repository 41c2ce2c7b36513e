using CnnService.Predict;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace CnnService.Protocols.Grpc;

/// <summary>
/// The gRPC front door: <c>inference.GRPCInferenceService</c> and gRPC reflection, served by Grpc.AspNetCore in the
/// same host (same repository, batchers, limits and logs as REST) on a port of its own, <see cref="GrpcOptions.Port"/>.
/// </summary>
public static class GrpcRegistration
{
    /// <summary>The gRPC frame header before each message: a gRPC body is this plus the message.</summary>
    private const int FrameHeaderBytes = 5;

    public static IServiceCollection AddGrpcInference(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GrpcOptions>().Bind(configuration.GetSection(GrpcOptions.Section))
            .Validate(o => o.Port is >= 0 and <= 65535, "Grpc:Port must be 0 (off) or a port, 1..65535.")
            .ValidateOnStart();
        services.AddSingleton<GrpcCallMetrics>();
        services.AddGrpc(grpc => grpc.Interceptors.Add<GrpcCallMetrics>());
        services.AddGrpcReflection();
        // The same ceiling as a REST body: a message whose frame would pass Limits:MaxBodyBytes is RESOURCE_EXHAUSTED,
        // refused from its length prefix before it is read.
        services.AddOptions<GrpcServiceOptions>().Configure<IOptions<PredictLimits>>((grpc, limits) =>
            grpc.MaxReceiveMessageSize = (int)Math.Min(int.MaxValue, limits.Value.MaxBodyBytes - FrameHeaderBytes));
        // gRPC needs HTTP/2, and without TLS there is no negotiation: the gRPC port speaks HTTP/2 only (prior knowledge).
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<GrpcOptions>>((kestrel, grpc) =>
            kestrel.ConfigureEndpointDefaults(listen =>
            {
                if (grpc.Value.Port > 0 && listen.IPEndPoint?.Port == grpc.Value.Port) listen.Protocols = HttpProtocols.Http2;
            }));
        services.AddTransient<IStartupFilter, GrpcListener>();
        return services;
    }

    public static void MapGrpcInference(this IEndpointRouteBuilder app)
    {
        app.MapGrpcService<GrpcInferenceEndpoint>();
        app.MapGrpcReflectionService();
    }

    /// <summary>
    /// Adds the gRPC port to the server's addresses once the host has filled them from its own settings (<c>urls</c>,
    /// <c>--urls</c>, <c>ASPNETCORE_HTTP_PORTS</c>, launch settings), so those keep working exactly as before: an
    /// explicit Kestrel listener would replace them instead. The gRPC address goes first, so that the HTTP address
    /// stays the last one (what test hosts take as the server's address), on the HTTP address's host.
    /// </summary>
    private sealed class GrpcListener(IOptions<GrpcOptions> options, ILogger<GrpcListener> logger) : IStartupFilter
    {
        /// <summary>Kestrel's own address when none is configured.</summary>
        private const string KestrelDefault = "http://localhost:5000";

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            AddAddress(app.ServerFeatures.Get<IServerAddressesFeature>());
            next(app);
        };

        private void AddAddress(IServerAddressesFeature? feature)
        {
            int port = options.Value.Port;
            if (port == 0 || feature is null || feature.Addresses.IsReadOnly) return;
            List<string> http = [.. feature.Addresses];
            if (http.Count == 0) http.Add(KestrelDefault);
            foreach (string address in http)
            {
                if (BindingAddress.Parse(address).Port == port)
                    throw new InvalidOperationException($"Grpc:Port {port} is also an HTTP address ({address}): give gRPC a port of its own, or 0 to turn it off.");
            }

            BindingAddress main = BindingAddress.Parse(http[^1]);
            string grpc = $"http://{(main.IsUnixPipe ? "localhost" : main.Host)}:{port}";
            feature.Addresses.Clear();
            feature.Addresses.Add(grpc);
            foreach (string address in http) feature.Addresses.Add(address);
            logger.LogInformation("gRPC inference.GRPCInferenceService (h2c) on {Address}", grpc);
        }
    }
}
