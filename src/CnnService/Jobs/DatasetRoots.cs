using CnnService.Engine.Data;
using CnnService.Imaging;
using Microsoft.Extensions.Options;

namespace CnnService.Jobs;

/// <summary>The <c>Datasets</c> settings.</summary>
public sealed class DatasetOptions
{
    public const string Section = "Datasets";

    /// <summary>The folders a job's <c>dataset</c> directory must be inside (relative paths from the content root); none: the data root alone.</summary>
    public List<string> Roots { get; set; } = [];
}

/// <summary>
/// Confines a job's dataset directory to the configured roots. A request names a directory relative to a
/// root or by its absolute path; it is accepted only if its real path (every symbolic link followed) is
/// inside a root, and so is every file in it that the trainer may read (the IDX files, the images of an image
/// folder's class folders). <c>..</c> is refused outright.
/// Anything refused and anything missing look the same to the caller (<see cref="Resolve"/> answers null),
/// so the answers tell nothing about the rest of the server's file system.
/// </summary>
public sealed class DatasetRoots
{
    private const int MaxLinks = 40; // as Linux's ELOOP

    public DatasetRoots(IOptions<DatasetOptions> options, TrainJobPaths paths)
    {
        List<string> configured = options.Value.Roots.Where(r => !string.IsNullOrWhiteSpace(r)).Select(r => Path.GetFullPath(r, paths.ContentRoot)).ToList();
        Roots = (configured.Count > 0 ? configured : [paths.DataRoot]).Select(r => RealPath(r) ?? r).ToList();
    }

    /// <summary>The roots as real paths.</summary>
    public IReadOnlyList<string> Roots { get; }

    /// <summary>The real path of the dataset directory <paramref name="requested"/>, or null when it is missing or not allowed.</summary>
    public string? Resolve(string requested)
    {
        if (requested.Split('/', '\\').Contains("..")) return null;
        foreach (string root in Roots)
        {
            string? real = RealPath(Path.GetFullPath(requested, root));
            if (real is not null && Directory.Exists(real) && IsAllowed(real) && FilesStayInside(real)) return real;
        }

        return null;
    }

    /// <summary>The one answer to a dataset directory that is missing or not allowed: it names the setting, and nothing on the server.</summary>
    public static string Refusal(string requested) =>
        $"No dataset \"{requested}\": give {string.Join(" or ", DatasetCatalog.Names)}, or a dataset directory inside the service's dataset roots " +
        "(Datasets:Roots), relative to a root or as an absolute path.";

    private bool IsAllowed(string realPath) =>
        Roots.Any(root => realPath == root || realPath.StartsWith(root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal));

    /// <summary>A link inside a root to a file outside it is as much a way out as a linked directory. A folder that cannot be listed is refused too.</summary>
    private bool FilesStayInside(string directory)
    {
        try
        {
            return IdxFiles(directory).Concat(ImageFolderFiles(directory)).All(file => RealPath(file) is string real && IsAllowed(real));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static IEnumerable<string> IdxFiles(string directory) =>
        Enum.GetValues<DatasetSplit>()
            .SelectMany(split => { (string images, string labels) = IdxDataset.FileNames(split); return new[] { images, labels }; })
            .SelectMany(name => new[] { name, name + ".gz" })
            .Select(name => Path.Combine(directory, name))
            .Where(File.Exists);

    /// <summary>
    /// Every file an image folder may read, in either layout (<see cref="ImageFolderDataset"/>): those with an image's
    /// extension in each class folder of <paramref name="directory"/> and of its <c>train/</c> and <c>test/</c>. A class
    /// folder that is itself a link out shows as its files' real paths.
    /// </summary>
    private static IEnumerable<string> ImageFolderFiles(string directory) =>
        from folder in new[] { directory, Path.Combine(directory, ImageFolderDataset.TrainFolder), Path.Combine(directory, ImageFolderDataset.TestFolder) }
        where Directory.Exists(folder)
        from classFolder in Directory.EnumerateDirectories(folder)
        from file in Directory.EnumerateFiles(classFolder)
        where ImageFiles.HasImageExtension(file)
        select file;

    /// <summary>The path with every symbolic link in it followed (as realpath(3)); null for a loop of links.</summary>
    internal static string? RealPath(string path, int links = 0)
    {
        string full = Path.GetFullPath(path);
        string current = Path.GetPathRoot(full)!;
        foreach (string part in full[current.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            string next = Path.Combine(current, part);
            if (new FileInfo(next).LinkTarget is string target)
            {
                if (++links > MaxLinks) return null;
                string? resolved = RealPath(Path.GetFullPath(target, current), links);
                if (resolved is null) return null;
                next = resolved;
            }

            current = next;
        }

        return current;
    }
}
