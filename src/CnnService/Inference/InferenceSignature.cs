using CnnService.Engine.Runtime;
using CnnService.Models;

namespace CnnService.Inference;

/// <summary>
/// The tensors a model shows the standard protocols, the same in metadata and in infer: one FP32 input of
/// [-1, C, H, W] and one FP32 output of [-1, classes], -1 being the free batch, under the model's own names
/// (<see cref="Model.InputName"/>: an ONNX model's graph names, <c>"input"</c> and <c>"output"</c> for a model.json
/// model). A request must use those names, as Triton requires: a client written for the original model works as it is.
/// </summary>
public static class InferenceSignature
{
    public static TensorSignature Input(Model model) =>
        new(model.InputName, TensorDatatype.FP32.Name(), [-1, model.Spec.Input.Channels, model.Spec.Input.Height, model.Spec.Input.Width]);

    public static TensorSignature Output(Model model) => new(model.OutputName, TensorDatatype.FP32.Name(), [-1, model.OutputShape.Size]);

    /// <summary>The protocol's "&lt;project&gt;_&lt;format&gt;": this engine, running the version's model.json or its model.onnx.</summary>
    public static string Platform(ModelVersion version) =>
        File.Exists(Path.Combine(version.Directory, ModelLoader.OnnxFile)) ? "cnnservice_onnx" : "cnnservice_safetensors";

    /// <summary>The request's inputs must be the model's one input, by its name; that input.</summary>
    public static InferInput CheckInputs(Model model, IReadOnlyList<InferInput> inputs)
    {
        if (inputs.Count != 1)
            throw InferenceException.Invalid($"The model takes one input, \"{model.InputName}\"; the request has {inputs.Count}.");
        if (inputs[0].Name != model.InputName)
            throw InferenceException.Invalid($"The model has no input \"{inputs[0].Name}\"; its input is \"{model.InputName}\".");
        return inputs[0];
    }

    /// <summary>A requested output must be the model's one output, by its name.</summary>
    public static void CheckOutput(Model model, string name)
    {
        if (name != model.OutputName) throw InferenceException.Invalid($"The model has no output \"{name}\"; its output is \"{model.OutputName}\".");
    }
}

public sealed record TensorSignature(string Name, string Datatype, long[] Shape);
