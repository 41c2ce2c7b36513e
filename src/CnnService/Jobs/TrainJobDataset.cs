using CnnService.Engine.Data;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Training;
using CnnService.Imaging;

namespace CnnService.Jobs;

/// <summary>
/// Opens a job's dataset as <c>cnn train --data</c> does (<see cref="DatasetOpener"/>): a named dataset, a folder of
/// IDX files, or an image folder decoded for the architecture's input, whose folder names become the model's labels.
/// A directory is confined to the dataset roots again on every open: links may have changed since the job was accepted.
/// </summary>
public sealed class TrainJobDataset(TrainJobPaths paths, DatasetRoots roots)
{
    /// <summary>Why a layer list cannot train on an image folder (a request is refused for its <c>arch</c>).</summary>
    public const string LayerListOnImageFolder =
        "A layer list has no input spec (size, colour, scaling) to decode an image folder's images for: train on an image folder with a built-in architecture.";

    /// <summary>The training split; throws <see cref="DatasetFormatException"/> (the <c>dataset</c>) or <see cref="ModelFormatException"/> (the <c>arch</c>).</summary>
    public IDataset OpenTrain(TrainJobSettings settings) => Open(settings, DatasetSplit.Train);

    /// <summary>The sets the run uses: the training split less its hold-out, the hold-out, and the test split.</summary>
    public TrainingData Open(TrainJobSettings settings) =>
        TrainingData.From(Open(settings, DatasetSplit.Train), Open(settings, DatasetSplit.Test), settings.Limit, settings.ValidationSplit, settings.Seed);

    private IDataset Open(TrainJobSettings settings, DatasetSplit split)
    {
        string dataset = settings.Dataset;
        if (!DatasetCatalog.IsKnown(dataset) && roots.Resolve(dataset) is null) throw new DatasetFormatException(DatasetRoots.Refusal(dataset));
        InputSpec? input = settings.ArchitectureInput;
        if (input is null && !DatasetCatalog.IsKnown(dataset) && !DatasetOpener.HasIdxFiles(dataset) && ImageFolderDataset.IsImageFolder(dataset))
            throw new ModelFormatException(LayerListOnImageFolder);
        return DatasetOpener.Open(dataset, split, paths.DataRoot, input);
    }
}
