using CnnService.Engine.Data;

namespace CnnService.Engine.Training;

/// <summary>
/// The three sets a training run uses: the training split (its first <c>limit</c> images, less a
/// seeded validation hold-out) and the test split the written model is scored on. Opened the same
/// way by <c>cnn train</c> and by the service's train jobs, from the splits <c>DatasetOpener</c> opens.
/// </summary>
public sealed record TrainingData(IDataset Train, IDataset? Validation, IDataset Test)
{
    /// <summary>
    /// From splits the caller opened (IDX files, or an image folder, which the engine cannot decode): the
    /// first <paramref name="limit"/> training images (null for all), less the seeded
    /// <paramref name="validationSplit"/> hold-out, and the test split.
    /// </summary>
    public static TrainingData From(IDataset train, IDataset test, int? limit, double validationSplit, long seed)
    {
        if (limit is int n && n < train.Count) train = DatasetSubset.First(train, n);
        (train, IDataset? validation) = Trainer.SplitValidation(train, validationSplit, seed);
        return new TrainingData(train, validation, test);
    }
}
