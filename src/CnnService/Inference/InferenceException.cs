namespace CnnService.Inference;

/// <summary>
/// Why a model request was refused, in terms every protocol maps to its own answer in one place
/// (<c>Protocols/V1/V1Problems</c>, <c>Protocols/TfServing/TfServingErrors</c>, <c>Protocols/V2/V2Results</c>, gRPC's status codes).
/// </summary>
public enum InferenceErrorKind
{
    /// <summary>The request is malformed or does not fit the model (the message names the input at fault): REST 400, gRPC INVALID_ARGUMENT.</summary>
    InvalidArgument,

    /// <summary>No such model or version: REST 404, gRPC NOT_FOUND.</summary>
    NotFound,

    /// <summary>Past a limit (body size, images per request, image pixels): REST 413, gRPC RESOURCE_EXHAUSTED.</summary>
    TooLarge,

    /// <summary>The version's batch queue is full: REST 429 with Retry-After, gRPC RESOURCE_EXHAUSTED.</summary>
    Busy,

    /// <summary>A body or an image in a format the service does not read: REST 415, gRPC INVALID_ARGUMENT.</summary>
    UnsupportedMediaType,

    /// <summary>The service is still loading its models and does not know this one yet: REST 503, gRPC UNAVAILABLE.</summary>
    NotReady,
}

/// <summary>A refused model request: the one typed error of every protocol's readers and of the core, which the protocol adapters translate.</summary>
public sealed class InferenceException(InferenceErrorKind kind, string message, TimeSpan? retryAfter = null) : Exception(message)
{
    public InferenceErrorKind Kind { get; } = kind;

    /// <summary>When the client may try again (<see cref="InferenceErrorKind.Busy"/>): REST's <c>Retry-After</c>.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    public static InferenceException Invalid(string message) => new(InferenceErrorKind.InvalidArgument, message);

    public static InferenceException TooLarge(string message) => new(InferenceErrorKind.TooLarge, message);

    public static InferenceException Unsupported(string message) => new(InferenceErrorKind.UnsupportedMediaType, message);

    public static InferenceException NotFound(string message) => new(InferenceErrorKind.NotFound, message);
}
