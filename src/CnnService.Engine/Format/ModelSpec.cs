using System.Text.Json.Nodes;

namespace CnnService.Engine.Format;

/// <summary>
/// The contents of a model version's <c>model.json</c>: what the network expects, what it
/// answers, and its layers in order. Unknown keys are kept in <see cref="Extra"/> so that a
/// file written by a newer tool round-trips unchanged.
/// </summary>
public sealed class ModelSpec
{
    /// <summary>The first format in which layers may name their <see cref="LayerSpec.Inputs"/>: a graph.</summary>
    public const int GraphFormat = 2;

    /// <summary>The newest format this build reads.</summary>
    public const int LatestFormat = 2;

    /// <summary>The tensor names of a model that states none: every model.json model (the file has no key for them).</summary>
    public const string DefaultInputName = "input", DefaultOutputName = "output";

    /// <summary>1: a chain of layers; 2: a graph (layers may name their inputs). Written when above 1.</summary>
    public int Format { get; init; } = 1;
    public required string Name { get; init; }
    public string? Description { get; init; }
    public required InputSpec Input { get; init; }
    public required IReadOnlyList<string> Labels { get; init; }
    public required IReadOnlyList<LayerSpec> Layers { get; init; }
    public JsonObject? Metrics { get; init; }

    /// <summary>The input tensor's name as clients address it: the ONNX graph's input name for an imported model.
    /// Not written to model.json, which has no key for it.</summary>
    public string InputName { get; init; } = DefaultInputName;

    /// <summary>The output tensor's name: the ONNX graph's output name for an imported model.</summary>
    public string OutputName { get; init; } = DefaultOutputName;
    public JsonObject Extra { get; init; } = new();
}
