using CnnService.Engine.Data;
using CnnService.Engine.Format;

namespace CnnService.Imaging;

/// <summary>
/// What a <c>--data</c> value (or a service's dataset setting) means, images included: a dataset name
/// the engine's <see cref="DatasetCatalog"/> knows (<c>mnist</c>, <c>fashion-mnist</c>), a directory of
/// IDX files in MNIST's layout, or an image folder (<see cref="ImageFolderDataset"/>: <c>DIR/&lt;label&gt;/</c>,
/// or <c>DIR/train/&lt;label&gt;/</c> and <c>DIR/test/&lt;label&gt;/</c>). A directory holding any of MNIST's
/// IDX file names is read as IDX. Anything else fails with one message saying what was looked for.
/// </summary>
public static class DatasetOpener
{
    /// <summary>
    /// Opens one split. An image folder is decoded for <paramref name="input"/> (the model's input: shape,
    /// colour, preprocessing), which it therefore needs; IDX datasets ignore it.
    /// </summary>
    public static IDataset Open(string nameOrDirectory, DatasetSplit split, string? dataRoot, InputSpec? input = null, ImageLimits? limits = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(nameOrDirectory);
        // Names, IDX directories and missing directories are the engine's to open (and to explain).
        if (DatasetCatalog.IsKnown(nameOrDirectory) || HasIdxFiles(nameOrDirectory) || !Directory.Exists(nameOrDirectory))
            return DatasetCatalog.Open(nameOrDirectory, split, dataRoot);
        if (ImageFolderDataset.IsImageFolder(nameOrDirectory))
        {
            if (input is null)
                throw new ArgumentException($"{nameOrDirectory} is an image folder: opening it needs the model's input spec (shape, colour and preprocessing)", nameof(input));
            return ImageFolderDataset.Open(nameOrDirectory, split, input, limits);
        }

        (string images, string labels) = IdxDataset.FileNames(DatasetSplit.Test);
        throw new DatasetFormatException(
            $"{nameOrDirectory}: neither an IDX dataset (MNIST's file names: {images}[.gz], {labels}[.gz], train-...) " +
            $"nor an image folder ({nameOrDirectory}/<label>/ or {nameOrDirectory}/{ImageFolderDataset.TrainFolder}|{ImageFolderDataset.TestFolder}/<label>/ holding {ImageFiles.Patterns})");
    }

    /// <summary>Whether <paramref name="directory"/> holds any of the four IDX files of MNIST's layout, plain or gzipped.</summary>
    public static bool HasIdxFiles(string directory)
    {
        if (!Directory.Exists(directory)) return false;
        foreach (DatasetSplit split in Enum.GetValues<DatasetSplit>())
        {
            (string images, string labels) = IdxDataset.FileNames(split);
            foreach (string name in (ReadOnlySpan<string>)[images, labels])
            {
                if (File.Exists(Path.Combine(directory, name)) || File.Exists(Path.Combine(directory, name + ".gz"))) return true;
            }
        }

        return false;
    }
}
