using System.Text.Json;
using System.Text.RegularExpressions;
using CnnService.Engine.Data;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Training;
using Microsoft.Extensions.Options;

namespace CnnService.Jobs;

/// <summary>
/// Turns a request into settings, or into errors keyed by field. Checks go as deep as they can without
/// training: the dataset is opened and the network is built for it, so a job that is accepted can run,
/// and a bad layer list is refused with the engine's message rather than failing minutes later.
/// </summary>
public sealed partial class TrainJobValidator(TrainJobPaths paths, DatasetRoots datasetRoots, TrainJobDataset datasets, IOptions<TrainJobOptions> options, ILogger<TrainJobValidator> logger)
{
    public const int MaxEpochs = 1000, MaxBatchSize = 4096, MaxAugmentShift = 8;
    public const double MaxLearningRate = 10, MaxValidationSplit = 0.5;

    private static readonly string[] Optimizers = ["adam", "sgd"];
    private static readonly string[] Schedules = ["constant", "step", "cosine"];

    /// <summary>A model name becomes a folder name: one safe path segment, never hidden, never "." or "..".</summary>
    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex ModelName();

    /// <summary>Threads a job gets when its request does not say: <c>Jobs:Threads</c>, else all cores but one.</summary>
    public int DefaultThreads => Math.Clamp(options.Value.Threads ?? Environment.ProcessorCount - 1, 1, Environment.ProcessorCount);

    public (TrainJobSettings? Settings, Dictionary<string, string[]> Errors) Validate(TrainJobRequest request)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        void Fail(string field, string message) => errors.TryAdd(field, [message]);

        string model = request.Model ?? "";
        if (request.Model is null) Fail("model", "Required: the model name the trained version is published under.");
        else if (!ModelName().IsMatch(model)) Fail("model", "Must be 1 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit: it names a folder under the models root.");

        JsonElement? arch = ReadArch(request.Arch, Fail);
        string? dataset = ResolveDataset(request.Dataset, Fail);

        int epochs = request.Epochs ?? 10;
        if (epochs is < 1 or > MaxEpochs) Fail("epochs", $"Must be 1 to {MaxEpochs}, got {epochs}.");
        int batchSize = request.BatchSize ?? 32;
        if (batchSize is < 1 or > MaxBatchSize) Fail("batch_size", $"Must be 1 to {MaxBatchSize}, got {batchSize}.");
        string optimizer = request.Optimizer ?? "adam";
        if (!Optimizers.Contains(optimizer)) Fail("optimizer", $"Must be adam or sgd, got \"{optimizer}\".");
        double learningRate = request.LearningRate ?? (optimizer == "sgd" ? 1e-2 : 1e-3);
        // The trainer keeps the rate as a float, in which 1e-50 is 0.
        if (!((float)learningRate > 0 && learningRate <= MaxLearningRate)) Fail("learning_rate", $"Must be above 0 and at most {MaxLearningRate}, got {learningRate}.");
        if (request.Limit is < 1) Fail("limit", $"Must be at least 1 (or null for the whole training split), got {request.Limit}.");
        int seed = request.Seed ?? 42;
        if (seed < 0) Fail("seed", $"Must not be negative, got {seed}.");
        double validationSplit = request.ValidationSplit ?? 0;
        if (!(validationSplit >= 0 && validationSplit <= MaxValidationSplit)) Fail("validation_split", $"Must be 0 to {MaxValidationSplit}, got {validationSplit}.");
        int threads = request.Threads ?? DefaultThreads;
        if (threads < 1 || threads > Environment.ProcessorCount) Fail("threads", $"Must be 1 to {Environment.ProcessorCount} (this machine's cores), got {threads}.");
        string schedule = request.Schedule ?? "constant";
        if (!Schedules.Contains(schedule)) Fail("schedule", $"Must be constant, step or cosine, got \"{schedule}\".");
        int augmentShift = request.AugmentShift ?? 0;
        if (augmentShift is < 0 or > MaxAugmentShift) Fail("augment_shift", $"Must be 0 to {MaxAugmentShift} pixels, got {augmentShift}.");

        if (arch is null || dataset is null) return (null, errors);
        var settings = new TrainJobSettings
        {
            Model = errors.ContainsKey("model") ? "model" : model, Arch = arch.Value, Dataset = dataset, Epochs = epochs, BatchSize = batchSize,
            Optimizer = optimizer, LearningRate = learningRate, Limit = request.Limit, Seed = seed, Promote = request.Promote ?? true,
            ValidationSplit = validationSplit, Threads = threads, Schedule = schedule, AugmentShift = augmentShift,
        };
        CheckTrainable(settings, Fail, checkSplit: !errors.ContainsKey("limit") && !errors.ContainsKey("validation_split"));
        return (errors.Count == 0 ? settings : null, errors);
    }

    private static JsonElement? ReadArch(JsonElement? arch, Action<string, string> fail)
    {
        string known = string.Join(", ", Architectures.Names);
        switch (arch)
        {
            case null or { ValueKind: JsonValueKind.Null }:
                fail("arch", $"Required: a built-in architecture ({known}) or a JSON array of layer objects as in model.json.");
                return null;
            case { ValueKind: JsonValueKind.String } name when Architectures.Names.Contains(name.GetString()):
                return name.Clone();
            case { ValueKind: JsonValueKind.String } name:
                fail("arch", $"Unknown architecture \"{name.GetString()}\" (known: {known}), and not a layer list.");
                return null;
            case { ValueKind: JsonValueKind.Array } layers:
                return layers.Clone();
            default:
                fail("arch", $"Must be a built-in architecture's name ({known}) or a JSON array of layer objects, got a {arch.Value.ValueKind.ToString().ToLowerInvariant()}.");
                return null;
        }
    }

    /// <summary>
    /// A known dataset's name as it is (its folder is looked up under the data root when the job runs), or the
    /// real path of a directory inside the dataset roots. Every directory refused or missing gets the same answer.
    /// </summary>
    private string? ResolveDataset(string? dataset, Action<string, string> fail)
    {
        string known = string.Join(" or ", DatasetCatalog.Names);
        if (string.IsNullOrEmpty(dataset))
        {
            fail("dataset", $"Required: {known}, or a dataset directory inside the service's dataset roots (Datasets:Roots).");
            return null;
        }

        if (DatasetCatalog.IsKnown(dataset))
        {
            try
            {
                DatasetCatalog.DirectoryOf(dataset, paths.DataRoot);
                return dataset;
            }
            catch (DatasetFormatException e)
            {
                // The engine's message names the CLI's flags; the caller of the service needs its settings.
                logger.LogWarning("A train job asked for {Dataset}, which is not on the server: {Reason}", dataset, e.Message);
                fail("dataset", $"The {dataset} dataset is not on the server: fetch it with '{DatasetCatalog.FetchScript} {dataset}' from the " +
                                $"repository root, or set Jobs:DataRoot to the folder that holds {dataset}/.");
                return null;
            }
        }

        if (datasetRoots.Resolve(dataset) is string directory) return directory;
        fail("dataset", DatasetRoots.Refusal(dataset));
        return null;
    }

    /// <summary>Opens the training split (an image folder's decoded, as the job will) and builds the network for it.</summary>
    private void CheckTrainable(TrainJobSettings settings, Action<string, string> fail, bool checkSplit)
    {
        IDataset train;
        try
        {
            train = datasets.OpenTrain(settings);
        }
        catch (DatasetFormatException e)
        {
            fail("dataset", e.Message);
            return;
        }
        catch (ModelFormatException e)
        {
            fail("arch", e.Message);
            return;
        }

        try
        {
            TrainingModel.CheckTrainable(settings.BuildSpec(train), train);
        }
        catch (Exception e) when (e is ModelFormatException or ArgumentException)
        {
            fail("arch", e.Message);
        }

        int count = Math.Min(settings.Limit ?? int.MaxValue, train.Count);
        if (checkSplit && Math.Round(count * settings.ValidationSplit) >= count)
            fail("validation_split", $"Holding out {settings.ValidationSplit} of {count} images leaves none to train on.");
    }
}
