using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using CnnService.Inference;

namespace CnnService.Protocols.V2;

/// <summary>
/// Writes the v2 inference response: <c>{"model_name", "model_version", "id", "outputs": [{"name", "datatype", "shape", "data"}]}</c>.
/// An output asked for as binary carries <c>"parameters": {"binary_data_size": n}</c> instead of <c>"data"</c>, and its bytes
/// follow the JSON in output order, with <c>Inference-Header-Content-Length</c> giving the JSON's length. Outputs are
/// written straight from the batcher's buffer; only classification strings are made.
/// </summary>
internal static class V2InferResponse
{
    private sealed record Output(V2OutputRequest Request, string[]? Classes, int PerImage)
    {
        public long BinarySize(InferenceResult result) => Classes is null
            ? (long)result.Output.Length * sizeof(float)
            : Classes.Sum(c => 4L + Encoding.UTF8.GetByteCount(c));
    }

    public static async Task WriteAsync(HttpResponse response, V2InferRequest request, InferenceResult result, CancellationToken cancellationToken)
    {
        var outputs = new List<Output>(request.Outputs.Count);
        foreach (V2OutputRequest o in request.Outputs)
        {
            string[]? classes = null;
            int perImage = 0;
            if (o.Classification is int k) classes = result.Classify(k, out perImage);
            outputs.Add(new Output(o, classes, perImage));
        }

        // The JSON is written first so that its length can lead (a binary answer's Inference-Header-Content-Length), and
        // every answer carries a Content-Length, which some clients of the binary extension expect.
        bool binary = outputs.Exists(o => o.Request.Binary);
        var header = new ArrayBufferWriter<byte>(256 + (binary ? 0 : 16 * result.Output.Length));
        using (var json = new Utf8JsonWriter(header))
            WriteHeader(json, request, result, outputs);
        long total = header.WrittenCount;
        foreach (Output o in outputs) if (o.Request.Binary) total += o.BinarySize(result);

        response.ContentType = binary ? "application/octet-stream" : "application/json";
        if (binary) response.Headers[V2InferRequest.HeaderLengthHeader] = header.WrittenCount.ToString(CultureInfo.InvariantCulture);
        response.ContentLength = total;
        PipeWriter body = response.BodyWriter;
        body.Write(header.WrittenSpan);
        foreach (Output o in outputs)
        {
            if (!o.Request.Binary) continue;
            if (o.Classes is null) WriteFloats(body, result.Output);
            else WriteStrings(body, o.Classes);
        }

        await body.FlushAsync(cancellationToken);
    }

    private static void WriteHeader(Utf8JsonWriter json, V2InferRequest request, InferenceResult result, List<Output> outputs)
    {
        json.WriteStartObject();
        json.WriteString("model_name", result.Version.Name);
        json.WriteString("model_version", result.Version.Version.ToString(CultureInfo.InvariantCulture));
        if (request.Id is not null) json.WriteString("id", request.Id);
        json.WriteStartArray("outputs");
        foreach (Output o in outputs)
        {
            json.WriteStartObject();
            json.WriteString("name", o.Request.Name);
            json.WriteString("datatype", o.Classes is null ? TensorDatatype.FP32.Name() : TensorDatatype.Bytes.Name());
            json.WriteStartArray("shape");
            json.WriteNumberValue(result.Count);
            json.WriteNumberValue(o.Classes is null ? result.Classes : o.PerImage);
            json.WriteEndArray();
            if (o.Request.Binary)
            {
                json.WriteStartObject("parameters");
                json.WriteNumber("binary_data_size", o.BinarySize(result));
                json.WriteEndObject();
            }
            else
            {
                json.WriteStartArray("data");
                if (o.Classes is null)
                    foreach (float value in result.Output) json.WriteNumberValue(value);
                else
                    foreach (string value in o.Classes) json.WriteStringValue(value);
                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>FP32, little-endian: on a little-endian machine the very bytes of the output buffer.</summary>
    private static void WriteFloats(PipeWriter body, ReadOnlySpan<float> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            body.Write(MemoryMarshal.AsBytes(values));
            return;
        }

        foreach (float value in values)
        {
            BinaryPrimitives.WriteSingleLittleEndian(body.GetSpan(4), value);
            body.Advance(4);
        }
    }

    /// <summary>BYTES: each element a 4-byte little-endian length, then its UTF-8.</summary>
    private static void WriteStrings(PipeWriter body, string[] values)
    {
        foreach (string value in values)
        {
            int length = Encoding.UTF8.GetByteCount(value);
            Span<byte> span = body.GetSpan(4 + length);
            BinaryPrimitives.WriteInt32LittleEndian(span, length);
            Encoding.UTF8.GetBytes(value, span[4..]);
            body.Advance(4 + length);
        }
    }
}
