using CnnService.Engine.Data;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Imaging;

/// <summary>
/// A labelled dataset of image files, one folder per class, in either of two layouts:
/// <list type="bullet">
/// <item><c>ROOT/train/&lt;label&gt;/*</c> and <c>ROOT/test/&lt;label&gt;/*</c>: the two splits (as
/// <see cref="DatasetSplit"/>); the classes are the labels found under either, so a label index
/// means the same class in both even when one split lacks a class.</item>
/// <item><c>ROOT/&lt;label&gt;/*</c>: one set of images, which both splits read
/// (<see cref="SplitsShareImages"/>): evaluating it scores every image, but a test accuracy after
/// training on it is measured on the training images.</item>
/// </list>
/// Classes are the folder names in ordinal order (so "10" sorts before "2"; name them "02", "10"
/// to order them otherwise); files are read in ordinal order of their names. Images are the files
/// with an extension of <see cref="ImageFiles.Extensions"/>; other files, subfolders of a class
/// folder and names starting with '.' are ignored. The names <c>train</c> and <c>test</c> are
/// reserved for the split layout.
/// <para>
/// Every image is decoded and preprocessed for the given <see cref="InputSpec"/> once, at
/// <see cref="Open"/>, into one byte array (raw pixels 0..255, exactly what
/// <see cref="ImagePreprocessor.ToPixels(ReadOnlySpan{byte}, InputSpec, ImageLimits, Span{float})"/>
/// gives the service), so <see cref="CopyPixels"/> is a copy, and safe on any number of threads.
/// A file that cannot be read fails the whole open with its path in the message.
/// </para>
/// </summary>
public sealed class ImageFolderDataset : InMemoryDataset
{
    public const string TrainFolder = "train";
    public const string TestFolder = "test";

    private readonly string[] _files;

    private ImageFolderDataset(string name, TensorShape shape, string[] classes, string[] files, int[] labels, byte[] pixels, bool shared)
        : base(name, shape, pixels, labels, classes)
    {
        _files = files;
        SplitsShareImages = shared;
    }

    /// <summary>True for the one-set layout (<c>ROOT/&lt;label&gt;/</c>), whose train and test splits are the same images.</summary>
    public bool SplitsShareImages { get; }

    /// <summary>The file item <paramref name="index"/> was read from.</summary>
    public string FileOf(int index)
    {
        CheckIndex(index);
        return _files[index];
    }

    /// <summary>Whether <paramref name="directory"/> has <c>train/</c> or <c>test/</c> folders (the split layout).</summary>
    public static bool HasSplitFolders(string directory) =>
        Directory.Exists(Path.Combine(directory, TrainFolder)) || Directory.Exists(Path.Combine(directory, TestFolder));

    /// <summary>Whether <paramref name="directory"/> is laid out as an image folder: split folders, or a class folder holding an image.</summary>
    public static bool IsImageFolder(string directory)
    {
        if (!Directory.Exists(directory)) return false;
        if (HasSplitFolders(directory)) return true;
        foreach (string folder in ClassFolders(directory))
        {
            foreach (string file in Directory.EnumerateFiles(Path.Combine(directory, folder)))
            {
                if (IsImage(file)) return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Reads one split of the image folder <paramref name="directory"/>, every image preprocessed for <paramref name="input"/>
    /// within <paramref name="limits"/>, on up to <paramref name="threads"/> threads (default: the CPUs available).
    /// </summary>
    public static ImageFolderDataset Open(string directory, DatasetSplit split, InputSpec input, ImageLimits? limits = null, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(input);
        limits ??= ImageLimits.Default;
        if (!Directory.Exists(directory)) throw new DatasetFormatException($"{directory}: no such image folder");
        CheckInput(directory, input);

        bool splits = HasSplitFolders(directory);
        string splitName = split == DatasetSplit.Train ? TrainFolder : TestFolder;
        string root = splits ? Path.Combine(directory, splitName) : directory;
        if (!Directory.Exists(root))
            throw new DatasetFormatException($"{directory}: has {(split == DatasetSplit.Train ? TestFolder : TrainFolder)}/ but no {splitName}/ folder; the split layout is {directory}/{TrainFolder}/<label>/ and {directory}/{TestFolder}/<label>/");

        string[] classes = splits ? Union(ClassFolders(Path.Combine(directory, TrainFolder)), ClassFolders(Path.Combine(directory, TestFolder))) : ClassFolders(directory);
        (string[] files, int[] labels) = List(root, classes);
        if (files.Length == 0)
            throw new DatasetFormatException($"{root}: no images; expected {ImageFiles.Patterns} files in a folder per class ({root}/<label>/)");

        var shape = new TensorShape(input.Channels, input.Height, input.Width);
        if ((long)files.Length * shape.Size > Array.MaxLength)
            throw new DatasetFormatException($"{root}: {files.Length:N0} images of {shape} are more than one array can hold");
        byte[] pixels = Load(files, input, limits, shape.Size, threads > 0 ? threads : Environment.ProcessorCount);

        string folderName = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)));
        string name = $"{folderName} ({(splits ? splitName : "all images")})";
        return new ImageFolderDataset(name, shape, classes, files, labels, pixels, shared: !splits);
    }

    /// <summary>Decodes every file in parallel into its slot; the first failing file in order is the one reported.</summary>
    private static byte[] Load(string[] files, InputSpec input, ImageLimits limits, int size, int threads)
    {
        var pixels = new byte[files.Length * size];
        var errors = new string?[files.Length];
        Parallel.For(0, files.Length, new ParallelOptions { MaxDegreeOfParallelism = threads }, () => new float[size], (i, loop, buffer) =>
        {
            try
            {
                ImagePreprocessor.ToPixels(ImageFiles.Read(files[i]), input, limits, buffer);
            }
            catch (Exception e) when (e is ImageDecodeException or IOException or UnauthorizedAccessException)
            {
                errors[i] = e.Message;
                loop.Break(); // every earlier file still runs, so the first bad one is found
                return buffer;
            }

            Span<byte> item = pixels.AsSpan(i * size, size);
            for (int k = 0; k < size; k++) item[k] = (byte)buffer[k];
            return buffer;
        }, _ => { });

        for (int i = 0; i < errors.Length; i++)
        {
            if (errors[i] is string error) throw new DatasetFormatException($"{files[i]}: {error}");
        }

        return pixels;
    }

    /// <summary>Every image file, class by class, with its label (the class's index).</summary>
    private static (string[] Files, int[] Labels) List(string root, string[] classes)
    {
        var files = new List<string>();
        var labels = new List<int>();
        for (int label = 0; label < classes.Length; label++)
        {
            string folder = Path.Combine(root, classes[label]);
            if (!Directory.Exists(folder)) continue; // a class only the other split has
            string[] names = Directory.GetFiles(folder).Where(IsImage).ToArray();
            Array.Sort(names, StringComparer.Ordinal);
            files.AddRange(names);
            labels.AddRange(Enumerable.Repeat(label, names.Length));
        }

        return (files.ToArray(), labels.ToArray());
    }

    private static void CheckInput(string directory, InputSpec input)
    {
        ImagePreprocessing preprocessing;
        try
        {
            preprocessing = ImagePreprocessor.PreprocessingOf(input);
        }
        catch (ArgumentException e)
        {
            throw new DatasetFormatException($"{directory}: cannot preprocess its images for this model: {e.Message}", e);
        }

        if (preprocessing == ImagePreprocessing.None)
            throw new DatasetFormatException($"{directory}: is an image folder, but the model takes no images (its input color is \"none\")");
    }

    /// <summary>The class folders directly under <paramref name="directory"/>, in ordinal order, hidden ones left out.</summary>
    private static string[] ClassFolders(string directory)
    {
        if (!Directory.Exists(directory)) return [];
        string[] names = Directory.GetDirectories(directory).Select(Path.GetFileName).OfType<string>().Where(n => !n.StartsWith('.')).ToArray();
        Array.Sort(names, StringComparer.Ordinal);
        return names;
    }

    private static string[] Union(string[] a, string[] b)
    {
        string[] all = a.Union(b, StringComparer.Ordinal).ToArray();
        Array.Sort(all, StringComparer.Ordinal);
        return all;
    }

    private static bool IsImage(string path) => !Path.GetFileName(path).StartsWith('.') && ImageFiles.HasImageExtension(path);

}
