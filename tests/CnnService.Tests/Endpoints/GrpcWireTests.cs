using CnnService.Protocols.Grpc;
using Google.Protobuf.Reflection;

namespace CnnService.Tests.Endpoints;

/// <summary>
/// The .proto keeps the Open Inference Protocol's wire contract, which official clients (tritonclient, KServe's SDK)
/// are compiled against: the package and service name, and every message's field names and numbers.
/// </summary>
public sealed class GrpcWireTests
{
    /// <summary>The protocol's field numbers, message by message.</summary>
    public static TheoryData<string, string> Messages => new()
    {
        { "inference.ServerLiveResponse", "live=1" },
        { "inference.ServerReadyResponse", "ready=1" },
        { "inference.ModelReadyRequest", "name=1 version=2" },
        { "inference.ModelReadyResponse", "ready=1" },
        { "inference.ServerMetadataResponse", "name=1 version=2 extensions=3" },
        { "inference.ModelMetadataRequest", "name=1 version=2" },
        { "inference.ModelMetadataResponse", "name=1 versions=2 platform=3 inputs=4 outputs=5" },
        { "inference.ModelMetadataResponse.TensorMetadata", "name=1 datatype=2 shape=3" },
        { "inference.InferParameter", "bool_param=1 int64_param=2 string_param=3 double_param=4 uint64_param=5" },
        { "inference.InferTensorContents", "bool_contents=1 int_contents=2 int64_contents=3 uint_contents=4 uint64_contents=5 fp32_contents=6 fp64_contents=7 bytes_contents=8" },
        { "inference.ModelInferRequest", "model_name=1 model_version=2 id=3 parameters=4 inputs=5 outputs=6 raw_input_contents=7" },
        { "inference.ModelInferRequest.InferInputTensor", "name=1 datatype=2 shape=3 parameters=4 contents=5" },
        { "inference.ModelInferRequest.InferRequestedOutputTensor", "name=1 parameters=2" },
        { "inference.ModelInferResponse", "model_name=1 model_version=2 id=3 parameters=4 outputs=5 raw_output_contents=6" },
        { "inference.ModelInferResponse.InferOutputTensor", "name=1 datatype=2 shape=3 parameters=4 contents=5" },
    };

    [Theory]
    [MemberData(nameof(Messages))]
    public void Each_message_has_the_protocols_field_names_and_numbers(string message, string fields)
    {
        MessageDescriptor descriptor = Assert.Single(AllMessages(GrpcServiceReflection.Descriptor.MessageTypes), m => m.FullName == message);

        Assert.Equal(fields, string.Join(' ', descriptor.Fields.InFieldNumberOrder().Select(f => $"{f.Name}={f.FieldNumber}")));
    }

    private static IEnumerable<MessageDescriptor> AllMessages(IEnumerable<MessageDescriptor> messages) =>
        messages.SelectMany(m => AllMessages(m.NestedTypes).Prepend(m));

    [Fact]
    public void The_service_is_inference_GRPCInferenceService_with_the_protocols_calls()
    {
        ServiceDescriptor service = Assert.Single(GrpcServiceReflection.Descriptor.Services);

        Assert.Equal("inference.GRPCInferenceService", service.FullName);
        Assert.Equal(["ModelInfer", "ModelMetadata", "ModelReady", "ServerLive", "ServerMetadata", "ServerReady"], service.Methods.Select(m => m.Name).Order());
    }
}
