using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using CnnService.Inference;
using Google.Protobuf;

namespace CnnService.Protocols.Grpc;

/// <summary>
/// Builds the <c>ModelInferResponse</c>: per requested output the FP32 [N, classes] tensor, or with classification the
/// BYTES [N, K] <c>"score:index:label"</c> strings; in <c>raw_output_contents</c> when the request came raw (as Triton
/// answers), else in the typed <c>contents</c>.
/// </summary>
internal static class GrpcInferResponse
{
    public static ModelInferResponse Build(ModelInferRequest request, GrpcInferRequest parsed, InferenceResult result)
    {
        var response = new ModelInferResponse
        {
            ModelName = result.Version.Name,
            ModelVersion = result.Version.Version.ToString(CultureInfo.InvariantCulture),
            Id = request.Id,
        };
        foreach (GrpcOutputRequest o in parsed.Outputs)
        {
            var tensor = new ModelInferResponse.Types.InferOutputTensor { Name = o.Name };
            if (o.Classification is int k)
            {
                string[] classes = result.Classify(k, out int perImage);
                tensor.Datatype = TensorDatatype.Bytes.Name();
                tensor.Shape.Add([result.Count, perImage]);
                if (parsed.Raw) response.RawOutputContents.Add(RawStrings(classes));
                else tensor.Contents = TypedStrings(classes);
            }
            else
            {
                tensor.Datatype = TensorDatatype.FP32.Name();
                tensor.Shape.Add(result.OutputShape);
                if (parsed.Raw) response.RawOutputContents.Add(RawFloats(result.Output));
                else tensor.Contents = TypedFloats(result.Output);
            }

            response.Outputs.Add(tensor);
        }

        return response;
    }

    /// <summary>Little-endian FP32: on a little-endian machine a copy of the output's very bytes.</summary>
    private static ByteString RawFloats(ReadOnlySpan<float> values)
    {
        if (BitConverter.IsLittleEndian) return ByteString.CopyFrom(MemoryMarshal.AsBytes(values));
        var bytes = new byte[values.Length * sizeof(float)];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        return UnsafeByteOperations.UnsafeWrap(bytes);
    }

    private static InferTensorContents TypedFloats(ReadOnlySpan<float> values)
    {
        var contents = new InferTensorContents();
        contents.Fp32Contents.Capacity = values.Length;
        foreach (float value in values) contents.Fp32Contents.Add(value);
        return contents;
    }

    /// <summary>Raw BYTES: each element a 4-byte little-endian length, then its UTF-8.</summary>
    private static ByteString RawStrings(string[] values)
    {
        int total = 0;
        foreach (string value in values) total += 4 + Encoding.UTF8.GetByteCount(value);
        var bytes = new byte[total];
        int offset = 0;
        foreach (string value in values)
        {
            int length = Encoding.UTF8.GetBytes(value, bytes.AsSpan(offset + 4));
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(offset), length);
            offset += 4 + length;
        }

        return UnsafeByteOperations.UnsafeWrap(bytes);  // the array is never touched again
    }

    private static InferTensorContents TypedStrings(string[] values)
    {
        var contents = new InferTensorContents();
        foreach (string value in values) contents.BytesContents.Add(ByteString.CopyFromUtf8(value));
        return contents;
    }
}
