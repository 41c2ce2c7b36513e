using System.Text;
using System.Text.Json;
using CnnService.Engine.Format;
using CnnService.Inference;

namespace CnnService.Predict;

/// <summary>
/// The JSON bodies predict accepts, TensorFlow Serving's row format:
/// <c>{"instances": [x, ...]}</c> where each x is an already-normalised C x H x W nested array, or
/// <c>{"images": ["&lt;base64&gt;", ...]}</c> of encoded images. Read with <see cref="Utf8JsonReader"/>
/// straight into the input buffer; every error names the element at fault (<c>instances[2][0][27]</c>).
/// Other top-level keys (TF Serving's <c>signature_name</c>) are ignored.
/// </summary>
public static class JsonPredictReader
{
    /// <param name="decodeImage">Turns one encoded image into the model's input.</param>
    public static void Read(ReadOnlySpan<byte> json, InputSpec input, PredictInputs inputs, ImageDecoding decodeImage)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 16 });
        try
        {
            Expect(ref reader, JsonTokenType.StartObject, "The body must be a JSON object with \"instances\" or \"images\".");
            string? found = null;
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                string property = reader.GetString()!;
                if (property is "instances" or "images")
                {
                    if (found is not null) throw InferenceException.Invalid("Give \"instances\" or \"images\", not both.");
                    found = property;
                    if (property == "instances") ReadInstances(ref reader, input, inputs);
                    else ReadImages(ref reader, input, inputs, decodeImage);
                }
                else
                {
                    Next(ref reader);
                    reader.Skip();
                }
            }

            if (found is null) throw InferenceException.Invalid("The JSON body has neither \"instances\" nor \"images\".");
            if (inputs.Count == 0) throw InferenceException.Invalid($"\"{found}\" is empty: nothing to predict.");
        }
        catch (JsonException e)
        {
            throw InferenceException.Invalid($"The body is not valid JSON: {e.Message}");
        }
    }

    private static void ReadInstances(ref Utf8JsonReader reader, InputSpec input, PredictInputs inputs)
    {
        Expect(ref reader, JsonTokenType.StartArray, "\"instances\" must be an array.");
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            Span<float> destination = inputs.Next();
            ReadInstance(ref reader, input, destination, $"instances[{inputs.Count - 1}]");
        }
    }

    /// <summary>
    /// One already-normalised instance, a C x H x W nested array of numbers, into <paramref name="destination"/>;
    /// the reader is on its StartArray. <paramref name="path"/> names the instance in errors (<c>instances[2]</c>),
    /// its elements get their indices appended (<c>instances[2][0][27]</c>). Shared with the TensorFlow Serving reader.
    /// </summary>
    internal static void ReadInstance(ref Utf8JsonReader reader, InputSpec input, Span<float> destination, string path)
    {
        Span<int> dims = [input.Channels, input.Height, input.Width];
        Span<int> index = stackalloc int[3];
        int written = 0;
        ReadNested(ref reader, dims, 0, index, destination, ref written, path);
    }

    /// <summary>One level of an instance; the reader is on this level's StartArray.</summary>
    private static void ReadNested(ref Utf8JsonReader reader, scoped ReadOnlySpan<int> dims, int level, scoped Span<int> index, scoped Span<float> destination, ref int written, string root)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw InferenceException.Invalid($"{Path(root, index, level)} must be an array of {dims[level]} (each instance is {dims[0]} x {dims[1]} x {dims[2]}).");
        int count = 0;
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            if (count == dims[level])
                throw InferenceException.Invalid($"{Path(root, index, level)} has more than {dims[level]} values (each instance is {dims[0]} x {dims[1]} x {dims[2]}).");
            index[level] = count;
            if (level + 1 < dims.Length)
            {
                ReadNested(ref reader, dims, level + 1, index, destination, ref written, root);
            }
            else
            {
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetSingle(out float value))
                    throw InferenceException.Invalid($"{Path(root, index, level + 1)} must be a number.");
                if (!float.IsFinite(value))
                    throw InferenceException.Invalid($"{Path(root, index, level + 1)} is not a finite float32.");
                destination[written++] = value;
            }

            count++;
        }

        if (count != dims[level])
            throw InferenceException.Invalid($"{Path(root, index, level)} has {count} values, not {dims[level]} (each instance is {dims[0]} x {dims[1]} x {dims[2]}).");
    }

    private static void ReadImages(ref Utf8JsonReader reader, InputSpec input, PredictInputs inputs, ImageDecoding decodeImage)
    {
        Expect(ref reader, JsonTokenType.StartArray, "\"images\" must be an array of base64 strings.");
        int i = 0;
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            byte[] bytes;
            try
            {
                bytes = reader.TokenType == JsonTokenType.String ? reader.GetBytesFromBase64() : throw new FormatException();
            }
            catch (FormatException)
            {
                throw InferenceException.Invalid($"images[{i}] must be a base64 string.");
            }

            decodeImage(bytes, input, inputs.Next(), $"images[{i}]");
            i++;
        }
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader) =>
        reader.Read() ? reader.TokenType : throw InferenceException.Invalid("The JSON body ends too soon.");

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string message)
    {
        if (Next(ref reader) != type) throw InferenceException.Invalid(message);
    }

    /// <summary><paramref name="root"/> and the first <paramref name="depth"/> indices: the element at fault.</summary>
    private static string Path(string root, ReadOnlySpan<int> index, int depth)
    {
        var path = new StringBuilder(root);
        for (int i = 0; i < depth && i < index.Length; i++) path.Append('[').Append(index[i]).Append(']');
        return path.ToString();
    }
}

/// <summary>Decodes one encoded image into a model's normalised input; <paramref name="what"/> names it in errors.</summary>
public delegate void ImageDecoding(ReadOnlySpan<byte> encoded, InputSpec input, Span<float> destination, string what);
