using System.Text.Json;
using CnnService.Engine.Format;
using CnnService.Inference;
using CnnService.Predict;

namespace CnnService.Protocols.TfServing;

/// <summary>Which TensorFlow Serving body a request came in: it decides the key of the answer.</summary>
public enum TfServingFormat
{
    /// <summary><c>{"instances": [...]}</c>, answered <c>{"predictions": [...]}</c>.</summary>
    Row,

    /// <summary><c>{"inputs": ...}</c>, answered <c>{"outputs": ...}</c>.</summary>
    Columnar,

    /// <summary><c>{"examples": [...]}</c> (classify), answered <c>{"results": [...]}</c>.</summary>
    Examples,
}

/// <summary>
/// TensorFlow Serving's REST bodies into model inputs, read with <see cref="Utf8JsonReader"/> straight into the
/// input buffer. The model has one input, named as <see cref="TfServingSignature.InputName"/> says (<c>image</c> below),
/// and each instance of it is
/// either a C x H x W nested array of normalised numbers (the layout of /v1 predict's <c>instances</c> and of the
/// signature's <c>[-1, C, H, W]</c> shape; read by <see cref="JsonPredictReader.ReadInstance"/>) or an encoded
/// image as TF Serving's binary convention <c>{"b64": "..."}</c>, decoded and preprocessed as /v1 predict does.
/// <list type="bullet">
/// <item>predict, row: <c>"instances": [x, ...]</c> or <c>[{"image": x}, ...]</c>;</item>
/// <item>predict, columnar: <c>"inputs": [x, ...]</c> or <c>{"image": [x, ...]}</c>;</item>
/// <item>classify: <c>"examples": [{"image": x}, ...]</c>, with an optional empty <c>"context"</c>.</item>
/// </list>
/// <c>signature_name</c>, when given, must be <see cref="TfServingSignature.SignatureName"/>. Other keys are ignored, as TF Serving does.
/// </summary>
public static class TfServingRequestReader
{
    /// <param name="classify">A <c>:classify</c> body (<c>examples</c>) rather than a <c>:predict</c> one.</param>
    /// <param name="inputName">The signature's input name (<see cref="TfServingSignature.InputName"/>), by which an instance may be named.</param>
    public static TfServingFormat Read(ReadOnlySpan<byte> json, bool classify, string inputName, InputSpec input, PredictInputs inputs, ImageDecoding decodeImage)
    {
        if (json.IsEmpty) throw InferenceException.Invalid("The request body is empty.");
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 16 });
        string expected = classify ? "\"examples\"" : "\"instances\" or \"inputs\"";
        try
        {
            Expect(ref reader, JsonTokenType.StartObject, $"The body must be a JSON object with {expected}.");
            TfServingFormat? found = null;
            string? signature = null;
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                string property = reader.GetString()!;
                Next(ref reader);
                switch (property)
                {
                    case "signature_name":
                        signature = reader.TokenType == JsonTokenType.String
                            ? reader.GetString()!
                            : throw InferenceException.Invalid("'signature_name' key must be a string value.");
                        break;
                    case "instances" when !classify:
                    case "inputs" when !classify:
                    case "examples" when classify:
                        if (found is not null)
                            throw InferenceException.Invalid(classify ? "Give \"examples\" once." : "Give only one of \"instances\" or \"inputs\", not both.");
                        found = property switch { "instances" => TfServingFormat.Row, "inputs" => TfServingFormat.Columnar, _ => TfServingFormat.Examples };
                        ReadBatch(ref reader, found.Value, property, inputName, input, inputs, decodeImage);
                        break;
                    case "context" when classify:
                        if (reader.TokenType != JsonTokenType.StartObject || Next(ref reader) != JsonTokenType.EndObject)
                            throw InferenceException.Invalid($"\"context\" must be empty: the model's only feature is \"{inputName}\", given in each example.");
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            if (signature is not null && signature != "" && signature != TfServingSignature.SignatureName)
                throw InferenceException.Invalid($"Serving signature name: \"{signature}\" not found in signature def; the only one is \"{TfServingSignature.SignatureName}\".");
            if (found is null) throw InferenceException.Invalid($"Missing {expected} key.");
            if (inputs.Count == 0) throw InferenceException.Invalid("The batch is empty: nothing to predict.");
            return found.Value;
        }
        catch (JsonException e)
        {
            throw InferenceException.Invalid($"The body is not valid JSON: {e.Message}");
        }
    }

    /// <summary>The value of <c>instances</c>, <c>inputs</c> or <c>examples</c>; the reader is on its first token.</summary>
    private static void ReadBatch(ref Utf8JsonReader reader, TfServingFormat format, string key, string inputName, InputSpec input, PredictInputs inputs, ImageDecoding decodeImage)
    {
        string path = key;
        if (format == TfServingFormat.Columnar && reader.TokenType == JsonTokenType.StartObject)
        {
            // The named form, {"image": [x, ...]}: the one name, then the list as in the unnamed form.
            if (Next(ref reader) == JsonTokenType.PropertyName && reader.ValueTextEquals("b64"u8))
                throw InferenceException.Invalid($"{key} must be a list with one item per instance (the batch dimension): [{{\"b64\": \"...\"}}, ...].");
            if (reader.TokenType != JsonTokenType.PropertyName || reader.GetString() != inputName)
                throw NoSuchInput(key, inputName, ref reader);
            path = $"{key}.{inputName}";
            Next(ref reader);
            ReadList(ref reader, format, path, inputName, input, inputs, decodeImage);
            if (Next(ref reader) != JsonTokenType.EndObject) throw NoSuchInput(key, inputName, ref reader);
            return;
        }

        ReadList(ref reader, format, path, inputName, input, inputs, decodeImage);
    }

    private static void ReadList(ref Utf8JsonReader reader, TfServingFormat format, string path, string inputName, InputSpec input, PredictInputs inputs, ImageDecoding decodeImage)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw InferenceException.Invalid($"{path} must be a list with one item per instance (the batch dimension).");
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            string item = $"{path}[{inputs.Count}]";
            Span<float> destination = inputs.Next();
            if (format == TfServingFormat.Examples)
                ReadNamed(ref reader, item, requireName: true, inputName, input, destination, decodeImage);
            else if (format == TfServingFormat.Row && reader.TokenType == JsonTokenType.StartObject)
                ReadNamed(ref reader, item, requireName: false, inputName, input, destination, decodeImage);
            else
                ReadValue(ref reader, item, input, destination, decodeImage);
        }
    }

    /// <summary>
    /// An object that names the input, <c>{"image": x}</c>; a row instance may also be the bare <c>{"b64": ...}</c>
    /// (the reader is on its StartObject).
    /// </summary>
    private static void ReadNamed(ref Utf8JsonReader reader, string path, bool requireName, string inputName, InputSpec input, Span<float> destination, ImageDecoding decodeImage)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw InferenceException.Invalid($"{path} must be an object with the feature \"{inputName}\".");
        if (Next(ref reader) != JsonTokenType.PropertyName)
            throw InferenceException.Invalid($"{path} is empty; give the input \"{inputName}\".");
        string name = reader.GetString()!;
        if (name == "b64" && !requireName)
        {
            ReadBase64(ref reader, path, input, destination, decodeImage);
            return;
        }

        if (name != inputName) throw NoSuchInput(path, inputName, ref reader);
        Next(ref reader);
        ReadValue(ref reader, $"{path}.{inputName}", input, destination, decodeImage);
        if (Next(ref reader) != JsonTokenType.EndObject) throw NoSuchInput(path, inputName, ref reader);
    }

    /// <summary>One instance of the input: a C x H x W nested array, or <c>{"b64": encoded image}</c>.</summary>
    private static void ReadValue(ref Utf8JsonReader reader, string path, InputSpec input, Span<float> destination, ImageDecoding decodeImage)
    {
        if (reader.TokenType == JsonTokenType.StartArray)
        {
            try
            {
                JsonPredictReader.ReadInstance(ref reader, input, destination, path);
            }
            catch (InferenceException e) when (e.Kind == InferenceErrorKind.InvalidArgument)
            {
                // TensorFlow's own image models take H x W x C, so that is the likely mistake: say which layout this is.
                throw InferenceException.Invalid($"{e.Message} Instances are channels first, C x H x W, as the signature's [-1, C, H, W] shape says (GET .../metadata).");
            }

            return;
        }

        if (reader.TokenType == JsonTokenType.StartObject && Next(ref reader) == JsonTokenType.PropertyName && reader.ValueTextEquals("b64"u8))
        {
            ReadBase64(ref reader, path, input, destination, decodeImage);
            return;
        }

        throw InferenceException.Invalid(
            $"{path} must be a {input.Channels} x {input.Height} x {input.Width} nested array of numbers or an encoded image as {{\"b64\": \"...\"}}.");
    }

    /// <summary>The value of a <c>"b64"</c> key (the reader is on the key), decoded as an image; the object must end there.</summary>
    private static void ReadBase64(ref Utf8JsonReader reader, string path, InputSpec input, Span<float> destination, ImageDecoding decodeImage)
    {
        byte[] bytes;
        try
        {
            bytes = Next(ref reader) == JsonTokenType.String ? reader.GetBytesFromBase64() : throw new FormatException();
        }
        catch (FormatException)
        {
            throw InferenceException.Invalid($"{path}: \"b64\" must be a base64 string.");
        }

        if (Next(ref reader) != JsonTokenType.EndObject)
            throw InferenceException.Invalid($"{path}: a {{\"b64\": ...}} object has no other keys.");
        if (bytes.Length == 0) throw InferenceException.Invalid($"{path}: the image is empty.");
        decodeImage(bytes, input, destination, path);
    }

    private static InferenceException NoSuchInput(string path, string inputName, ref Utf8JsonReader reader)
    {
        string what = reader.TokenType == JsonTokenType.PropertyName ? $"has no named input \"{reader.GetString()}\"" : "names more than the one input";
        return InferenceException.Invalid($"{path} {what}; the model's only input is \"{inputName}\".");
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader) =>
        reader.Read() ? reader.TokenType : throw InferenceException.Invalid("The JSON body ends too soon.");

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string message)
    {
        if (Next(ref reader) != type) throw InferenceException.Invalid(message);
    }
}
