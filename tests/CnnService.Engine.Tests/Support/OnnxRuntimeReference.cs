using Microsoft.ML.OnnxRuntime;

namespace CnnService.Engine.Tests.Support;

/// <summary>One output tensor of a run: its values, row-major, and its shape.</summary>
internal sealed record OnnxOutput(float[] Values, int[] Shape);

/// <summary>
/// ONNX Runtime on the CPU, as the reference the engine's ONNX import is compared against: one .onnx file,
/// one float input of shape [N,C,H,W], its first output back. One intra-op thread, and no graph
/// optimisations, so ORT runs the graph as written (no fusions that would move its rounding).
/// </summary>
internal sealed class OnnxRuntimeReference : IDisposable
{
    private readonly InferenceSession session;
    private readonly string inputName;
    private readonly string outputName;

    public OnnxRuntimeReference(string modelPath)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL,
        };
        session = new InferenceSession(modelPath, options);
        if (session.InputMetadata.Count != 1)
            throw new ArgumentException($"{modelPath}: expected one input, found {session.InputMetadata.Count}", nameof(modelPath));
        inputName = session.InputMetadata.Keys.First();
        outputName = session.OutputMetadata.Keys.First();
    }

    /// <summary>Runs <paramref name="modelPath"/> once on <paramref name="input"/> of shape [N,C,H,W].</summary>
    public static OnnxOutput Run(string modelPath, float[] input, params int[] shape)
    {
        using var reference = new OnnxRuntimeReference(modelPath);
        return reference.Run(input, shape);
    }

    /// <summary>Runs the model on <paramref name="input"/> of shape [N,C,H,W] and returns its first output.</summary>
    public OnnxOutput Run(float[] input, params int[] shape)
    {
        if (shape.Length is not (2 or 4) || shape.Any(d => d <= 0))
            throw new ArgumentException($"shape must be positive sizes [N,C,H,W] or [N,F], not [{string.Join(",", shape)}]", nameof(shape));
        long size = shape.Aggregate(1L, (a, d) => a * d);
        if (input.Length != size)
            throw new ArgumentException($"input has {input.Length} values; shape [{string.Join(",", shape)}] needs {size}", nameof(input));

        using OrtValue tensor = OrtValue.CreateTensorValueFromMemory(input, shape.Select(d => (long)d).ToArray());
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions, [inputName], [tensor], [outputName]);
        OrtValue output = outputs[0];
        int[] outputShape = output.GetTensorTypeAndShape().Shape.Select(d => checked((int)d)).ToArray();
        return new OnnxOutput(output.GetTensorDataAsSpan<float>().ToArray(), outputShape);
    }

    public void Dispose() => session.Dispose();
}
