namespace CnnService.Protocols.Grpc;

/// <summary>Configuration section <c>Grpc</c>: the port of the gRPC front door.</summary>
public sealed class GrpcOptions
{
    public const string Section = "Grpc";

    /// <summary>
    /// The port <c>inference.GRPCInferenceService</c> is served on, HTTP/2 without TLS (h2c), on the same host as the
    /// HTTP port (localhost for <c>dotnet run</c>, every interface in the container); 0 turns gRPC off.
    /// </summary>
    public int Port { get; set; } = 8081;
}
