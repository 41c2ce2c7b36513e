using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using CnnService.Engine.Evaluation;
using CnnService.Engine.Runtime;
using CnnService.Imaging;

namespace CnnService.Cli;

/// <summary>
/// <c>cnn predict</c>: runs inputs through a model and prints one JSON line per input item: which file
/// and item it is, the top classes and every class's probability (the service's rule, <see cref="Probabilities"/>). An input file is a .npy array of already-normalised items or
/// an image (one item), told apart by their first bytes, never the name.
/// </summary>
internal static class PredictCommand
{
    /// <summary>Images per Forward call: bounds the memory a large file needs.</summary>
    public const int MaxChunk = 64;

    public const int DefaultTop = 5;

    private static readonly OptionSpec Threads = new("--threads", TakesValue: true);
    private static readonly OptionSpec Top = new("--top", TakesValue: true);

    private static readonly JsonWriterOptions JsonOptions = new()
    {
        // Printed to a terminal or a pipe, never into HTML: keep labels like "café" readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static Command Definition { get; } = new(
        "predict",
        "run .npy arrays or image files through a model and print one JSON line per item",
        $$"""
        usage: cnn predict --model DIR [--threads T] [--top K] FILE...

        Each FILE is either a NumPy .npy array of little-endian float32 ('<f4', C order) holding
        inputs that are already normalised, shaped [N, C, H, W] or [C, H, W] to match the model's
        input, or an image (PNG, JPEG, GIF, BMP or WebP, recognised by its first bytes; one item)
        that is decoded and preprocessed as the model's input spec says: grayscale or RGB, resized
        to its height and width (MNIST-style centring with "preprocess": "mnist"), normalised.
        Prints one JSON object per item, files in the order given, items in file order:
          {"file":"x.png","item":0,"top":[{"index":7,"label":"7","probability":0.998},...],"probabilities":[...]}
        "file" is the FILE as given and "item" the item's index in it (0 for an image). The outputs
        are read as probabilities as the service reads them: a model whose last layer is not
        softmax gets one applied. "top" holds the K most probable classes, most probable first;
        "label" is the model's label for that class, or the index when the model has no labels.
        (Non-finite values are written as null.)

          --model DIR   a model directory holding {{ModelLoader.SpecFile}} and {{ModelLoader.WeightsFile}}
          --threads T   threads per forward pass (default: {{Environment.ProcessorCount}}, the CPUs available)
          --top K       how many of the most probable classes to list (default: {{DefaultTop}})
          -h, --help    show this help
        """,
        [ModelSource.ModelOption, Threads, Top],
        Run);

    private static int Run(ParsedArgs args, TextWriter stdout)
    {
        string directory = args.Require(ModelSource.ModelOption.Name);
        int threads = args.GetInt(Threads.Name, Environment.ProcessorCount, min: 1, max: 1024);
        int top = args.GetInt(Top.Name, DefaultTop, min: 0);
        if (args.Positionals.Count == 0) throw new UsageException("'cnn predict' needs at least one .npy or image FILE (see 'cnn predict --help')");

        Model model = ModelLoader.Load(directory, EngineOptions.Default with { Threads = threads });

        // Check every file before printing anything, so a bad last file does not leave half an answer:
        // .npy headers are checked (their data is streamed later), images are decoded now and kept.
        var images = new float[]?[args.Positionals.Count];
        for (int i = 0; i < images.Length; i++)
        {
            string path = args.Positionals[i];
            InputKind kind = KindOf(path);
            if (kind == InputKind.Image) images[i] = ReadImage(path, model);
            else CheckNpy(path, model, kind);
        }

        var predictor = new Predictor(model, top, stdout);
        for (int i = 0; i < images.Length; i++)
        {
            string path = args.Positionals[i];
            if (images[i] is float[] image)
            {
                predictor.Run(path, image);
                continue;
            }

            using NpyFile file = NpyReader.Open(path);
            predictor.Run(path, file, ItemsIn(file, model));
        }

        return ExitCodes.Ok;
    }

    /// <summary>What an input file is, by its first bytes: the .npy magic, an image signature, or neither.</summary>
    internal enum InputKind { Npy, Image, Neither }

    /// <summary>
    /// The kind of <paramref name="path"/> by its first bytes, never its name. A file that cannot be read counts
    /// as .npy, whose reader then says why.
    /// </summary>
    internal static InputKind KindOf(string path)
    {
        Span<byte> prefix = stackalloc byte[Math.Max(ImageSignature.Length, NpyReader.Magic.Length)];
        int got;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
            got = stream.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return InputKind.Npy;
        }

        if (prefix[..got].StartsWith(NpyReader.Magic)) return InputKind.Npy;
        return ImageSignature.Detect(prefix[..got]) is null ? InputKind.Neither : InputKind.Image;
    }

    /// <summary>Checks a .npy file's header against the model; for a file that is neither .npy nor an image, the message says both.</summary>
    private static void CheckNpy(string path, Model model, InputKind kind)
    {
        try
        {
            using NpyFile file = NpyReader.Open(path);
            ItemsIn(file, model);
        }
        catch (NpyFormatException e) when (kind == InputKind.Neither)
        {
            throw new NpyFormatException($"{e.Message}; nor is it a PNG, JPEG, GIF, BMP or WebP image");
        }
    }

    /// <summary>An image file as the model's normalised input.</summary>
    internal static float[] ReadImage(string path, Model model)
    {
        var input = new float[model.InputShape.Size];
        try
        {
            ImagePreprocessor.ToInput(ImageFiles.Read(path), model.Spec.Input, ImageLimits.Default, input);
        }
        catch (ImageDecodeException e)
        {
            throw new CliException($"{path}: {e.Message}", e);
        }
        catch (ArgumentException e)
        {
            // The model's input spec asks for a preprocessing this build does not know.
            throw new CliException($"{path}: the model's input cannot take images: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{path}: cannot read: {NpyReader.Reason(e)}", e);
        }

        return input;
    }

    /// <summary>The number of items in <paramref name="file"/>, whose shape must be [N, C, H, W] or [C, H, W] of the model's input.</summary>
    internal static long ItemsIn(NpyFile file, Model model)
    {
        TensorShape input = model.InputShape;
        long[] shape = file.Header.Shape;
        bool fits = shape.Length switch
        {
            4 => shape[1] == input.C && shape[2] == input.H && shape[3] == input.W,
            3 => shape[0] == input.C && shape[1] == input.H && shape[2] == input.W,
            _ => false,
        };
        if (!fits)
        {
            throw new NpyFormatException(
                $"{file.Name}: shape {file.Header.ShapeText} does not match the model's input {input}; " +
                $"expected (N, {input.C}, {input.H}, {input.W}) or ({input.C}, {input.H}, {input.W})");
        }

        return shape.Length == 4 ? shape[0] : 1;
    }

    /// <summary>Runs files through the model in chunks and prints their lines, reusing its buffers.</summary>
    private sealed class Predictor(Model model, int top, TextWriter stdout)
    {
        private readonly int _inputSize = model.InputShape.Size;
        private readonly int _outputSize = model.OutputShape.Size;
        private readonly ArrayBufferWriter<byte> _buffer = new();
        private float[] _input = [];
        private float[] _output = [];

        /// <summary>One item already in memory (a decoded image).</summary>
        public void Run(string path, float[] item)
        {
            if (_output.Length < _outputSize) _output = new float[MaxChunk * _outputSize];
            Span<float> output = _output.AsSpan(0, _outputSize);
            model.Forward(item.AsSpan(0, _inputSize), output, 1);
            stdout.WriteLine(Line(path, 0, output));
        }

        public void Run(string path, NpyFile file, long items)
        {
            for (long done = 0; done < items;)
            {
                int batch = (int)Math.Min(MaxChunk, items - done);
                if (_input.Length < batch * _inputSize)
                {
                    _input = new float[batch * _inputSize];
                    _output = new float[batch * _outputSize];
                }

                Span<float> input = _input.AsSpan(0, batch * _inputSize);
                Span<float> output = _output.AsSpan(0, batch * _outputSize);
                file.ReadFloats(input);
                model.Forward(input, output, batch);
                for (int i = 0; i < batch; i++) stdout.WriteLine(Line(path, done + i, output.Slice(i * _outputSize, _outputSize)));
                done += batch;
            }
        }

        private string Line(string path, long item, Span<float> outputs)
        {
            Probabilities.FromOutputs(model.Spec, outputs);
            _buffer.ResetWrittenCount();
            using (var json = new Utf8JsonWriter(_buffer, JsonOptions))
            {
                json.WriteStartObject();
                json.WriteString("file", path);
                json.WriteNumber("item", item);
                json.WriteStartArray("top");
                foreach (int index in Probabilities.TopIndices(outputs, top))
                {
                    json.WriteStartObject();
                    json.WriteNumber("index", index);
                    json.WriteString("label", Probabilities.LabelOf(model.Labels, index));
                    json.WritePropertyName("probability");
                    WriteNumber(json, outputs[index]);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteStartArray("probabilities");
                foreach (float v in outputs) WriteNumber(json, v);
                json.WriteEndArray();
                json.WriteEndObject();
            }

            return Encoding.UTF8.GetString(_buffer.WrittenSpan);
        }
    }

    /// <summary>JSON has no NaN or infinity: those become null.</summary>
    private static void WriteNumber(Utf8JsonWriter json, float value)
    {
        if (float.IsFinite(value)) json.WriteNumberValue(value);
        else json.WriteNullValue();
    }
}
