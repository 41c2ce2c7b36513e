using CnnService.Engine.Data;

namespace CnnService.Engine.Training;

/// <summary>
/// The three sets a training run uses: the training split (its first <c>limit</c> images, less a
/// seeded validation hold-out) and the test split the written model is scored on. Opened the same
/// way by <c>cnn train</c> and by the service's train jobs.
/// </summary>
public sealed record TrainingData(IDataset Train, IDataset? Validation, IDataset Test)
{
    /// <param name="dataset">A known dataset name or a directory of IDX files (<see cref="DatasetCatalog"/>).</param>
    /// <param name="dataRoot">Where the known datasets live; null for the catalog's rule.</param>
    /// <param name="limit">Train on the first this many images only; null for all.</param>
    /// <param name="validationSplit">The fraction of the (limited) training images held out, 0 for none.</param>
    /// <param name="seed">The run's seed, which chooses the held-out images.</param>
    public static TrainingData Open(string dataset, string? dataRoot, int? limit, double validationSplit, long seed)
    {
        IDataset train = DatasetCatalog.Open(dataset, DatasetSplit.Train, dataRoot);
        IDataset test = DatasetCatalog.Open(dataset, DatasetSplit.Test, dataRoot);
        return From(train, test, limit, validationSplit, seed);
    }

    /// <summary>The same from splits opened elsewhere (an image folder, which the engine cannot decode).</summary>
    public static TrainingData From(IDataset train, IDataset test, int? limit, double validationSplit, long seed)
    {
        if (limit is int n && n < train.Count) train = DatasetSubset.First(train, n);
        (train, IDataset? validation) = Trainer.SplitValidation(train, validationSplit, seed);
        return new TrainingData(train, validation, test);
    }
}
