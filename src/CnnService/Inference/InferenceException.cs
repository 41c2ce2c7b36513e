using CnnService.Predict;

namespace CnnService.Inference;

/// <summary>Why an inference request was refused, in terms every protocol maps to its own codes.</summary>
public enum InferenceErrorKind
{
    /// <summary>The request is malformed or does not fit the model: REST 400, gRPC INVALID_ARGUMENT.</summary>
    InvalidArgument,

    /// <summary>No such model or version: REST 404, gRPC NOT_FOUND.</summary>
    NotFound,

    /// <summary>Past a limit (body size, images per request, image pixels): REST 413, gRPC RESOURCE_EXHAUSTED.</summary>
    TooLarge,

    /// <summary>The version's batch queue is full: REST 429 with Retry-After, gRPC RESOURCE_EXHAUSTED.</summary>
    Busy,
}

/// <summary>A refused inference request: the one typed error the protocol adapters translate.</summary>
public sealed class InferenceException(InferenceErrorKind kind, string message) : Exception(message)
{
    public InferenceErrorKind Kind { get; } = kind;

    public static InferenceException Invalid(string message) => new(InferenceErrorKind.InvalidArgument, message);

    /// <summary>An error of the shared image and body readers (which speak HTTP codes) in these terms; an image that is not one is a bad argument here.</summary>
    public static InferenceException From(PredictInputException e) =>
        new(e.Status == StatusCodes.Status413PayloadTooLarge ? InferenceErrorKind.TooLarge : InferenceErrorKind.InvalidArgument, e.Message);
}
