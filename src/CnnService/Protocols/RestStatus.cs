using CnnService.Inference;

namespace CnnService.Protocols;

/// <summary>The HTTP status every REST protocol answers a refused request with, by the error's kind (gRPC has <c>GrpcStatus</c>).</summary>
internal static class RestStatus
{
    public static int Of(InferenceErrorKind kind) => kind switch
    {
        InferenceErrorKind.NotFound => StatusCodes.Status404NotFound,
        InferenceErrorKind.TooLarge => StatusCodes.Status413PayloadTooLarge,
        InferenceErrorKind.UnsupportedMediaType => StatusCodes.Status415UnsupportedMediaType,
        InferenceErrorKind.Busy => StatusCodes.Status429TooManyRequests,
        InferenceErrorKind.NotReady => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status400BadRequest,
    };
}
