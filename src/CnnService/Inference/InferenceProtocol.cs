namespace CnnService.Inference;

/// <summary>The front door a request came in by: a metric label, and a note on its log line.</summary>
public enum InferenceProtocol
{
    /// <summary><c>/v1/models/{name}/predict</c>, the service's own.</summary>
    V1,
    TfServing,
    /// <summary>Open Inference Protocol v2 over REST.</summary>
    V2,
    /// <summary>Open Inference Protocol v2 over gRPC.</summary>
    Grpc,
}

public static class InferenceProtocols
{
    /// <summary>The <c>protocol</c> label of the inference metrics.</summary>
    public static string Label(this InferenceProtocol protocol) => protocol switch
    {
        InferenceProtocol.V1 => "v1",
        InferenceProtocol.TfServing => "tfserving",
        InferenceProtocol.V2 => "v2",
        InferenceProtocol.Grpc => "grpc",
        _ => throw new ArgumentOutOfRangeException(nameof(protocol)),
    };

    /// <summary>How the log line names it; /v1 is the default and goes unnamed.</summary>
    public static string? LogNote(this InferenceProtocol protocol) => protocol switch
    {
        InferenceProtocol.TfServing => "TF Serving",
        InferenceProtocol.V2 => "v2",
        InferenceProtocol.Grpc => "gRPC",
        _ => null,
    };
}
