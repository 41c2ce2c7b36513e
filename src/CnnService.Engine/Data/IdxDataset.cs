using System.Globalization;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Data;

/// <summary>
/// A dataset in MNIST's layout: a directory holding an images file (N, H, W) and a labels file (N)
/// per split, under the standard names (<c>train-images-idx3-ubyte</c>, <c>t10k-labels-idx1-ubyte</c>, ...),
/// each plain or with <c>.gz</c>. When both a plain and a <c>.gz</c> file exist, the plain one is
/// read: it is the faster, and a decompressed copy is what someone who unpacked by hand meant.
/// The whole split is held in memory as bytes (the 60,000 MNIST training images take 47 MB).
/// Items are single-channel: shape (1, H, W).
/// </summary>
public sealed class IdxDataset : InMemoryDataset
{
    private IdxDataset(string name, TensorShape shape, byte[] pixels, byte[] labels, IReadOnlyList<string> classes)
        : base(name, shape, pixels, Array.ConvertAll(labels, l => (int)l), classes)
    {
    }

    /// <summary>The file names a split is looked for under, without the optional <c>.gz</c>: images first, then labels.</summary>
    public static (string Images, string Labels) FileNames(DatasetSplit split) => split switch
    {
        DatasetSplit.Train => ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        DatasetSplit.Test => ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
        _ => throw new ArgumentOutOfRangeException(nameof(split), split, null),
    };

    /// <summary>The prefix of a split's file names, as used in messages: "train" or "t10k".</summary>
    public static string SplitName(DatasetSplit split) => split == DatasetSplit.Train ? "train" : "t10k";

    /// <summary>
    /// Reads one split of the dataset in <paramref name="directory"/>. <paramref name="classes"/> names the
    /// labels; without it there are max label + 1 classes named "0", "1", ... Every label must name a class.
    /// </summary>
    public static IdxDataset Open(string directory, DatasetSplit split, IReadOnlyList<string>? classes = null)
    {
        if (!Directory.Exists(directory)) throw new DatasetFormatException($"{directory}: no such dataset directory");
        (string imagesName, string labelsName) = FileNames(split);
        string? imagesPath = Find(directory, imagesName), labelsPath = Find(directory, labelsName);
        if (imagesPath is null || labelsPath is null)
        {
            string missing = imagesPath is null && labelsPath is null ? "no images or labels" : imagesPath is null ? "no images" : "no labels";
            throw new DatasetFormatException(
                $"{directory}: {missing} for the {SplitName(split)} split; looked for {imagesName}, {imagesName}.gz, {labelsName} and {labelsName}.gz");
        }


        IdxArray images = IdxFile.Read(imagesPath);
        if (images.Dims.Length != 3)
            throw new DatasetFormatException($"{imagesPath}: images must be 3-D (count, height, width); the file is {images.Dims.Length}-D {images}");
        IdxArray labels = IdxFile.Read(labelsPath);
        if (labels.Dims.Length != 1)
            throw new DatasetFormatException($"{labelsPath}: labels must be 1-D (count); the file is {labels.Dims.Length}-D {labels}");
        if (images.Count != labels.Count)
            throw new DatasetFormatException($"{labelsPath}: {labels.Count:N0} labels, but {imagesPath} holds {images.Count:N0} images");

        byte maxLabel = 0;
        int maxAt = 0;
        for (int i = 0; i < labels.Data.Length; i++)
        {
            if (labels.Data[i] > maxLabel)
            {
                maxLabel = labels.Data[i];
                maxAt = i;
            }
        }

        if (classes is not null && maxLabel >= classes.Count)
            throw new DatasetFormatException($"{labelsPath}: label {maxLabel} at index {maxAt} is out of range; this dataset has {classes.Count} classes (0 to {classes.Count - 1})");
        classes ??= Enumerable.Range(0, maxLabel + 1).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();

        string name = $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)))} ({SplitName(split)})";
        return new IdxDataset(name, new TensorShape(1, images.Dims[1], images.Dims[2]), images.Data, labels.Data, classes);
    }

    /// <summary>The plain file if it exists, else the <c>.gz</c> one, else null.</summary>
    private static string? Find(string directory, string name)
    {
        string plain = Path.Combine(directory, name), gzip = plain + ".gz";
        if (File.Exists(plain)) return plain;
        return File.Exists(gzip) ? gzip : null;
    }
}
