using CnnService.Engine.Runtime;
using CnnService.Models;

namespace CnnService.Inference;

/// <summary>
/// The tensors a model shows the standard protocols, the same in metadata and in infer: one FP32 input
/// <c>"input"</c> of [-1, C, H, W] and one FP32 output <c>"output"</c> of [-1, classes], -1 being the free batch.
/// </summary>
public static class InferenceSignature
{
    public const string InputName = "input", OutputName = "output";

    public static TensorSignature Input(Model model) =>
        new(InputName, TensorDatatype.FP32.Name(), [-1, model.Spec.Input.Channels, model.Spec.Input.Height, model.Spec.Input.Width]);

    public static TensorSignature Output(Model model) => new(OutputName, TensorDatatype.FP32.Name(), [-1, model.OutputShape.Size]);

    /// <summary>The protocol's "&lt;project&gt;_&lt;format&gt;": this engine, running the version's model.json or its model.onnx.</summary>
    public static string Platform(ModelVersion version) =>
        File.Exists(Path.Combine(version.Directory, ModelLoader.OnnxFile)) ? "cnnservice_onnx" : "cnnservice_safetensors";

    /// <summary>A requested output must be the model's one output.</summary>
    public static void CheckOutput(string name)
    {
        if (name != OutputName) throw InferenceException.Invalid($"The model has no output \"{name}\"; its output is \"{OutputName}\".");
    }
}

public sealed record TensorSignature(string Name, string Datatype, long[] Shape);
