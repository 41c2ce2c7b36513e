using CnnService.Inference;
using Grpc.Core;

namespace CnnService.Protocols.Grpc;

/// <summary>The shared inference error as the call's gRPC status, with the same message REST gives.</summary>
internal static class GrpcStatus
{
    public static RpcException From(InferenceException e) => new(new Status(CodeOf(e.Kind), e.Message));

    public static StatusCode CodeOf(InferenceErrorKind kind) => kind switch
    {
        InferenceErrorKind.NotFound => StatusCode.NotFound,
        InferenceErrorKind.TooLarge or InferenceErrorKind.Busy => StatusCode.ResourceExhausted,
        InferenceErrorKind.NotReady => StatusCode.Unavailable,
        _ => StatusCode.InvalidArgument,
    };
}
