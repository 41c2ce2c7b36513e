using CnnService.Engine.Data;
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
/// inside a root, and so are the IDX files in it that the trainer will read. <c>..</c> is refused outright.
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
            if (real is not null && Directory.Exists(real) && IsAllowed(real) && IdxFilesStayInside(real)) return real;
        }

        return null;
    }

    private bool IsAllowed(string realPath) =>
        Roots.Any(root => realPath == root || realPath.StartsWith(root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal));

    /// <summary>A link inside a root to a file outside it is as much a way out as a linked directory.</summary>
    private bool IdxFilesStayInside(string directory) =>
        Enum.GetValues<DatasetSplit>()
            .SelectMany(split => { (string images, string labels) = IdxDataset.FileNames(split); return new[] { images, labels }; })
            .SelectMany(name => new[] { name, name + ".gz" })
            .Select(name => Path.Combine(directory, name))
            .Where(File.Exists)
            .All(file => RealPath(file) is string real && IsAllowed(real));

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
