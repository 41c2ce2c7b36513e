using System.Net;
using System.Net.Sockets;
using CnnService.Protocols.Grpc;
using Grpc.Net.Client;

namespace CnnService.Tests.Support;

/// <summary>
/// The service on a real Kestrel with its gRPC port on: REST on a dynamic loopback port, gRPC (h2c) on a free one
/// given as <c>Grpc:Port</c>, and a real <see cref="GrpcChannel"/> to it, as any client outside the process would have.
/// </summary>
public sealed class GrpcServer : IAsyncLifetime
{
    private readonly Dictionary<string, string?> _settings;

    public GrpcServer() : this([]) { }

    internal GrpcServer(Dictionary<string, string?> settings)
    {
        _settings = new Dictionary<string, string?>(settings) { ["Grpc:Port"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture) };
        Factory = new ServiceFactory(_settings);
    }

    public ServiceFactory Factory { get; }

    public HttpClient Http { get; private set; } = null!;

    public GrpcChannel Channel { get; private set; } = null!;

    public GRPCInferenceService.GRPCInferenceServiceClient Client { get; private set; } = null!;

    public Uri GrpcAddress => new($"http://127.0.0.1:{_settings["Grpc:Port"]}");

    public async Task InitializeAsync()
    {
        Factory.UseKestrel(0);
        Factory.StartServer();
        Http = await Factory.ReadyClientAsync();
        Channel = GrpcChannel.ForAddress(GrpcAddress);
        Client = new GRPCInferenceService.GRPCInferenceServiceClient(Channel);
    }

    public async Task DisposeAsync()
    {
        Channel?.Dispose();
        await Factory.DisposeAsync();
    }

    /// <summary>A loopback port nobody listens on now: the OS's pick for a listener on port 0, released again.</summary>
    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
