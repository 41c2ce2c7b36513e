using System.Text.Json;
using CnnService.Engine.Data;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Training;
using CnnService.Engine.Training.Optimizers;

namespace CnnService.Jobs;

/// <summary>
/// A train job's request once validated, every default filled in: what the job runs, echoed in its
/// record and stored with it, so a resumed job trains exactly as it started (the trainer refuses a
/// checkpoint made with other settings).
/// </summary>
public sealed record TrainJobSettings
{
    public required string Model { get; init; }

    /// <summary>
    /// As sent: a built-in architecture's name (a JSON string) or a layer list (a JSON array). A JsonElement,
    /// not a JsonNode: an element is immutable, so any number of requests may serialise the record at once.
    /// </summary>
    public required JsonElement Arch { get; init; }

    /// <summary>A known dataset's name, or the real path (links followed) of a dataset directory inside <c>Datasets:Roots</c>.</summary>
    public required string Dataset { get; init; }

    public required int Epochs { get; init; }
    public required int BatchSize { get; init; }
    public required string Optimizer { get; init; }
    public required double LearningRate { get; init; }
    public int? Limit { get; init; }
    public required int Seed { get; init; }
    public required bool Promote { get; init; }
    public required double ValidationSplit { get; init; }
    public required int Threads { get; init; }
    public required string Schedule { get; init; }
    public required int AugmentShift { get; init; }

    public TrainOptions ToTrainOptions() => new()
    {
        Epochs = Epochs,
        BatchSize = BatchSize,
        Optimizer = new OptimizerOptions { Name = Optimizer, LearningRate = (float)LearningRate },
        Schedule = new LearningRateSchedule { Kind = Schedule },
        Seed = Seed,
        Threads = Threads,
        AugmentShift = AugmentShift,
    };

    /// <summary>What an image folder's images are decoded for: the built-in architecture's input; a layer list has none.</summary>
    public InputSpec? ArchitectureInput => Arch.ValueKind == JsonValueKind.String ? Architectures.Get(Arch.GetString()!).Input : null;

    /// <summary>
    /// The spec to train on <paramref name="train"/>: the named architecture, or the layer list with the
    /// dataset's images as input; either way named <see cref="Model"/> and labelled with the dataset's classes.
    /// A bad layer list throws the engine's <see cref="ModelFormatException"/>, its message prefixed "arch".
    /// </summary>
    public ModelSpec BuildSpec(IDataset train) =>
        Arch.ValueKind == JsonValueKind.String
            ? TrainingModel.For(Architectures.Get(Arch.GetString()!), Model, train)
            : TrainingModel.FromLayers(ModelSpecJson.ParseLayers(Arch.GetRawText(), "arch"), Model, train);
}
