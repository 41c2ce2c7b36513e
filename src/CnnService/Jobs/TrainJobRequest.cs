using System.Text.Json;
using System.Text.Json.Serialization;

namespace CnnService.Jobs;

/// <summary>
/// The body of <c>POST /v1/train-jobs</c>, as sent: every field may be missing or wrong, and
/// <see cref="TrainJobValidator"/> says which. Unknown fields are refused rather than ignored, so a
/// misspelt <c>batchsize</c> is an error instead of a silently different run.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record TrainJobRequest
{
    /// <summary>The model name the result is published under: a new version of models/&lt;model&gt;.</summary>
    public string? Model { get; init; }

    /// <summary>A built-in architecture name, or a JSON array of layer objects in the model.json format.</summary>
    public JsonElement? Arch { get; init; }

    /// <summary><c>mnist</c>, <c>fashion-mnist</c>, or a directory of IDX files inside <c>Datasets:Roots</c> (relative to a root, or absolute).</summary>
    public string? Dataset { get; init; }

    public int? Epochs { get; init; }
    public int? BatchSize { get; init; }
    /// <summary><c>adam</c> (default) or <c>sgd</c>.</summary>
    public string? Optimizer { get; init; }
    /// <summary>Default 0.001 for adam, 0.01 for sgd.</summary>
    public double? LearningRate { get; init; }
    /// <summary>Train on the first this many training images only.</summary>
    public int? Limit { get; init; }
    public int? Seed { get; init; }
    /// <summary>Make the new version the model's default once it is served (default true).</summary>
    public bool? Promote { get; init; }
    /// <summary>The fraction of the training images held out to validate each epoch (0 to 0.5).</summary>
    public double? ValidationSplit { get; init; }
    /// <summary>Threads the trainer uses; default <c>Jobs:Threads</c>.</summary>
    public int? Threads { get; init; }
    /// <summary><c>constant</c> (default), <c>step</c> or <c>cosine</c>.</summary>
    public string? Schedule { get; init; }
    /// <summary>Shift training images randomly by up to this many pixels (0 to 8).</summary>
    public int? AugmentShift { get; init; }
}
