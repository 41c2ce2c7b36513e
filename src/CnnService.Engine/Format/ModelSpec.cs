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

    /// <summary>1: a chain of layers; 2: a graph (layers may name their inputs). Written when above 1.</summary>
    public int Format { get; init; } = 1;
    public required string Name { get; init; }
    public string? Description { get; init; }
    public required InputSpec Input { get; init; }
    public required IReadOnlyList<string> Labels { get; init; }
    public required IReadOnlyList<LayerSpec> Layers { get; init; }
    public JsonObject? Metrics { get; init; }
    public JsonObject Extra { get; init; } = new();
}
