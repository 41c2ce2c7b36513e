using System.Globalization;
using System.Text.Json;
using CnnService.Engine.Runtime;
using CnnService.Inference;

namespace CnnService.Protocols.V2;

/// <summary>What the client asked of one output: its name, whether it comes back binary, and the classification count if any.</summary>
internal sealed record V2OutputRequest(string Name, bool Binary, int? Classification);

/// <summary>
/// An Open Inference Protocol v2 infer body: the JSON request object, and with the binary tensor data extension
/// (an <c>Inference-Header-Content-Length</c> header) the binary tensors after it, claimed in input order by each
/// input's <c>"binary_data_size"</c>. Inputs read their data straight from the body buffer, which must outlive this.
/// Every malformation is an <see cref="InferenceException"/> (400) that says where.
/// </summary>
internal sealed class V2InferRequest : IDisposable
{
    public const string HeaderLengthHeader = "Inference-Header-Content-Length";
    private const int MaxRank = 8;

    private readonly JsonDocument _document;

    private V2InferRequest(JsonDocument document) => _document = document;

    public string? Id { get; private set; }
    public List<InferInput> Inputs { get; } = [];

    /// <summary>The outputs to return, in order: the model's one output, as JSON unless asked for binary, when the request names none.</summary>
    public List<V2OutputRequest> Outputs { get; } = [];

    /// <param name="model">The model the request is for: requested outputs are checked against its output's name.</param>
    public static V2InferRequest Parse(ReadOnlyMemory<byte> body, string? headerLength, Model model)
    {
        int jsonLength = body.Length;
        if (headerLength is not null
            && (!int.TryParse(headerLength, NumberStyles.None, CultureInfo.InvariantCulture, out jsonLength) || jsonLength < 2 || jsonLength > body.Length))
            throw InferenceException.Invalid($"{HeaderLengthHeader} \"{headerLength}\" must be the length of the JSON header, 2..{body.Length} bytes (the body's length).");
        if (body.IsEmpty) throw InferenceException.Invalid("The request body is empty; send an inference request JSON object.");

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body[..jsonLength], new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            throw InferenceException.Invalid($"The inference request is not valid JSON{(headerLength is null ? $" (binary tensors need the {HeaderLengthHeader} header)" : "")}: {e.Message}");
        }

        var request = new V2InferRequest(document);
        try
        {
            request.Read(document.RootElement, body[jsonLength..], model);
            return request;
        }
        catch
        {
            request.Dispose();
            throw;
        }
    }

    private void Read(JsonElement root, ReadOnlyMemory<byte> binary, Model model)
    {
        if (root.ValueKind != JsonValueKind.Object) throw InferenceException.Invalid("The inference request must be a JSON object with \"inputs\".");
        if (root.TryGetProperty("id", out JsonElement id))
            Id = id.ValueKind == JsonValueKind.String ? id.GetString() : throw InferenceException.Invalid("\"id\" must be a string.");
        JsonElement parameters = Parameters(root, "the request");
        bool binaryOutputs = Bool(parameters, "binary_data_output", "the request") ?? false;

        if (!root.TryGetProperty("inputs", out JsonElement inputs) || inputs.ValueKind != JsonValueKind.Array)
            throw InferenceException.Invalid("\"inputs\" must be an array of input tensors.");
        int offset = 0, index = 0;
        foreach (JsonElement input in inputs.EnumerateArray()) Inputs.Add(ReadInput(input, index++, binary, ref offset));
        if (offset != binary.Length)
            throw InferenceException.Invalid($"{binary.Length - offset} byte(s) after the JSON header belong to no input's \"binary_data_size\".");

        if (root.TryGetProperty("outputs", out JsonElement outputs))
        {
            if (outputs.ValueKind != JsonValueKind.Array) throw InferenceException.Invalid("\"outputs\" must be an array of requested outputs.");
            foreach (JsonElement output in outputs.EnumerateArray()) Outputs.Add(ReadOutput(output, binaryOutputs, model));
        }

        if (Outputs.Count == 0) Outputs.Add(new V2OutputRequest(model.OutputName, binaryOutputs, null));
    }

    private static InferInput ReadInput(JsonElement input, int index, ReadOnlyMemory<byte> binary, ref int offset)
    {
        string where = $"inputs[{index}]";
        if (input.ValueKind != JsonValueKind.Object) throw InferenceException.Invalid($"{where} must be an object.");
        string name = String(input, "name", where);
        where = $"Input \"{name}\"";
        string datatype = String(input, "datatype", where);
        long[] shape = Shape(input, where);
        long? size = Integer(Parameters(input, where), "binary_data_size", where);
        bool hasData = input.TryGetProperty("data", out JsonElement data);
        if (size is long bytes)
        {
            if (hasData) throw InferenceException.Invalid($"{where} has both \"data\" and \"binary_data_size\"; send one.");
            if (bytes < 0 || bytes > binary.Length - offset)
                throw InferenceException.Invalid($"{where}: \"binary_data_size\" {bytes} runs past the body: {binary.Length - offset} binary byte(s) remain.");
            var content = new RawTensorContent(binary.Slice(offset, (int)bytes));
            offset += (int)bytes;
            return new InferInput(name, datatype, shape, content);
        }

        if (!hasData) throw InferenceException.Invalid($"{where} has no \"data\" (nor a \"binary_data_size\" for binary data).");
        if (data.ValueKind != JsonValueKind.Array) throw InferenceException.Invalid($"{where}: \"data\" must be an array, flat or nested.");
        return new InferInput(name, datatype, shape, new V2JsonContent(data));
    }

    private static V2OutputRequest ReadOutput(JsonElement output, bool binaryOutputs, Model model)
    {
        if (output.ValueKind != JsonValueKind.Object) throw InferenceException.Invalid("Each of \"outputs\" must be an object with a \"name\".");
        string name = String(output, "name", "a requested output");
        InferenceSignature.CheckOutput(model, name);
        string where = $"Output \"{name}\"";
        JsonElement parameters = Parameters(output, where);
        long? classification = Integer(parameters, "classification", where);
        if (classification is < 1 or > int.MaxValue)
            throw InferenceException.Invalid($"{where}: \"classification\" must be a positive number of classes, not {classification}.");
        return new V2OutputRequest(name, Bool(parameters, "binary_data", where) ?? binaryOutputs, (int?)classification);
    }

    private static string String(JsonElement element, string property, string where) =>
        element.TryGetProperty(property, out JsonElement value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw InferenceException.Invalid($"{where} needs \"{property}\", a string.");

    private static long[] Shape(JsonElement input, string where)
    {
        if (!input.TryGetProperty("shape", out JsonElement shape) || shape.ValueKind != JsonValueKind.Array)
            throw InferenceException.Invalid($"{where} needs \"shape\", an array of dimensions.");
        // No model here takes more than 4 dimensions; a longer shape is refused before an array of its length is made.
        if (shape.GetArrayLength() > MaxRank)
            throw InferenceException.Invalid($"{where}: shape has {shape.GetArrayLength()} dimensions; at most {MaxRank} are accepted.");
        var dims = new long[shape.GetArrayLength()];
        int i = 0;
        foreach (JsonElement dim in shape.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out dims[i]) || dims[i] < 0)
                throw InferenceException.Invalid($"{where}: shape {dim.GetRawText()} at {i} is not a dimension (a non-negative integer).");
            i++;
        }

        return dims;
    }

    /// <summary>The <c>"parameters"</c> object, or an undefined element when there is none.</summary>
    private static JsonElement Parameters(JsonElement element, string where)
    {
        if (!element.TryGetProperty("parameters", out JsonElement parameters)) return default;
        return parameters.ValueKind == JsonValueKind.Object ? parameters : throw InferenceException.Invalid($"\"parameters\" of {where} must be an object.");
    }

    private static bool? Bool(JsonElement parameters, string name, string where)
    {
        if (parameters.ValueKind != JsonValueKind.Object || !parameters.TryGetProperty(name, out JsonElement value)) return null;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw InferenceException.Invalid($"{where}: parameter \"{name}\" must be true or false."),
        };
    }

    private static long? Integer(JsonElement parameters, string name, string where)
    {
        if (parameters.ValueKind != JsonValueKind.Object || !parameters.TryGetProperty(name, out JsonElement value)) return null;
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long number)
            ? number
            : throw InferenceException.Invalid($"{where}: parameter \"{name}\" must be an integer.");
    }

    public void Dispose() => _document.Dispose();
}
