using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using CnnService.Engine.Runtime;

namespace CnnService.Cli;

/// <summary>
/// <c>cnn predict</c>: runs already-normalised inputs from .npy files through a model and prints
/// one JSON line per input item: every output value and the top classes.
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
        "run .npy inputs through a model and print one JSON line per item",
        $$"""
        usage: cnn predict --model DIR [--threads T] [--top K] FILE...

        Each FILE is a NumPy .npy array of little-endian float32 ('<f4', C order) holding inputs
        that are already normalised, shaped [N, C, H, W] or [C, H, W] to match the model's input.
        Prints one JSON object per item, files in the order given, items in file order:
          {"outputs":[...],"top":[{"index":7,"label":"7","probability":0.998},...]}
        "top" holds the K largest outputs, largest first; "label" is the model's label for that
        output, or the index when the model has no labels; "probability" is the output value.
        (Non-finite outputs are written as null.)

          --model DIR   a model directory holding {{ModelLoader.SpecFile}} and {{ModelLoader.WeightsFile}}
          --threads T   threads per forward pass (default: {{Environment.ProcessorCount}}, the CPUs available)
          --top K       how many top outputs to list (default: {{DefaultTop}})
          -h, --help    show this help
        """,
        [ModelSource.ModelOption, Threads, Top],
        Run);

    private static int Run(ParsedArgs args, TextWriter stdout)
    {
        string directory = args.Require(ModelSource.ModelOption.Name);
        int threads = args.GetInt(Threads.Name, Environment.ProcessorCount, min: 1, max: 1024);
        int top = args.GetInt(Top.Name, DefaultTop, min: 0);
        if (args.Positionals.Count == 0) throw new UsageException("'cnn predict' needs at least one .npy FILE (see 'cnn predict --help')");

        Model model = ModelLoader.Load(directory, EngineOptions.Default with { Threads = threads });

        // Check every file before printing anything, so a bad last file does not leave half an answer.
        foreach (string path in args.Positionals)
        {
            using NpyFile file = NpyReader.Open(path);
            ItemsIn(file, model);
        }

        var predictor = new Predictor(model, top, stdout);
        foreach (string path in args.Positionals)
        {
            using NpyFile file = NpyReader.Open(path);
            predictor.Run(file, ItemsIn(file, model));
        }

        return ExitCodes.Ok;
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

        public void Run(NpyFile file, long items)
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
                for (int i = 0; i < batch; i++) stdout.WriteLine(Line(output.Slice(i * _outputSize, _outputSize)));
                done += batch;
            }
        }

        private string Line(ReadOnlySpan<float> outputs)
        {
            _buffer.ResetWrittenCount();
            using (var json = new Utf8JsonWriter(_buffer, JsonOptions))
            {
                json.WriteStartObject();
                json.WriteStartArray("outputs");
                foreach (float v in outputs) WriteNumber(json, v);
                json.WriteEndArray();
                json.WriteStartArray("top");
                foreach (int index in TopIndices(outputs, top))
                {
                    json.WriteStartObject();
                    json.WriteNumber("index", index);
                    json.WriteString("label", model.Labels.Count > 0 ? model.Labels[index] : index.ToString(CultureInfo.InvariantCulture));
                    json.WritePropertyName("probability");
                    WriteNumber(json, outputs[index]);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            return Encoding.UTF8.GetString(_buffer.WrittenSpan);
        }
    }

    /// <summary>The indices of the <paramref name="k"/> largest values, largest first; ties by index; NaN ranks last.</summary>
    internal static int[] TopIndices(ReadOnlySpan<float> values, int k)
    {
        var indices = new int[values.Length];
        for (int i = 0; i < indices.Length; i++) indices[i] = i;
        float[] copy = values.ToArray();
        Array.Sort(indices, (a, b) =>
        {
            float x = copy[a], y = copy[b];
            if (float.IsNaN(x) || float.IsNaN(y))
            {
                int nan = float.IsNaN(x).CompareTo(float.IsNaN(y));
                return nan != 0 ? nan : a.CompareTo(b);
            }

            int byValue = y.CompareTo(x);
            return byValue != 0 ? byValue : a.CompareTo(b);
        });
        return indices[..Math.Min(k, indices.Length)];
    }

    /// <summary>JSON has no NaN or infinity: those become null.</summary>
    private static void WriteNumber(Utf8JsonWriter json, float value)
    {
        if (float.IsFinite(value)) json.WriteNumberValue(value);
        else json.WriteNullValue();
    }
}
