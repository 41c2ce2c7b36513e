using System.Text.Json;
using CnnService.Engine.Format;

namespace CnnService.Engine.Training;

/// <summary>
/// Everything a run needs to continue exactly where it stopped, in one safetensors file written
/// atomically (a crash mid-write leaves the previous checkpoint): the network's tensors, the
/// optimizer's state as "optimizer.*" tensors, and the run's position and history as JSON in the
/// file's metadata. Because shuffles, augmentation and dropout are functions of the seed, the
/// epoch and the step, a resumed run continues the very same sequence.
/// </summary>
public sealed record Checkpoint
{
    private const string MetadataKey = "cnn.checkpoint";
    private const string OptimizerPrefix = "optimizer.";
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = false };

    /// <summary>model.json of the network being trained.</summary>
    public required string Spec { get; init; }
    public required TrainOptions Options { get; init; }
    public required int TrainCount { get; init; }
    /// <summary>The epoch in progress (0-based) and the steps of it already done.</summary>
    public required int Epoch { get; init; }
    public required int StepInEpoch { get; init; }
    public required long OptimizerSteps { get; init; }
    public required double Seconds { get; init; }
    /// <summary>The epoch in progress so far: summed batch losses, images right, images seen.</summary>
    public double EpochLossSum { get; init; }
    public long EpochCorrect { get; init; }
    public long EpochSeen { get; init; }
    public required IReadOnlyList<EpochSummary> History { get; init; }

    public static void Save(string path, Checkpoint state, IEnumerable<NamedTensor> tensors)
    {
        var metadata = new Dictionary<string, string> { [MetadataKey] = JsonSerializer.Serialize(state, Json) };
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is string folder) Directory.CreateDirectory(folder);
        SafeTensors.Write(path, tensors, metadata);
    }

    /// <summary>Reads a checkpoint: its state, the network's tensors and the optimizer's.</summary>
    public static (Checkpoint State, WeightSet Network, WeightSet Optimizer) Load(string path)
    {
        WeightSet tensors = SafeTensors.Read(path);
        if (!tensors.Metadata.TryGetValue(MetadataKey, out string? json))
            throw new ModelFormatException($"{path}: not a training checkpoint (no \"{MetadataKey}\" metadata).");
        try
        {
            Checkpoint state = JsonSerializer.Deserialize<Checkpoint>(json, Json) ?? throw new JsonException("null");
            var all = tensors.AllFloat32().ToList();
            return (state,
                WeightSet.FromTensors(all.Where(t => !t.Name.StartsWith(OptimizerPrefix, StringComparison.Ordinal)), path),
                WeightSet.FromTensors(all.Where(t => t.Name.StartsWith(OptimizerPrefix, StringComparison.Ordinal)), path));
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{path}: the checkpoint's state is unreadable: {e.Message}");
        }
    }
}
