namespace CnnService.Models.Management;

/// <summary>
/// Checks an archive entry's path and places it: a version's files at the archive's top, or all in one top folder
/// (what <c>tar czf v.tgz 3/</c> or zipping a folder makes). Absolute paths, <c>..</c>, nested folders and files
/// spread over several folders are refused, whatever the entry is, before anything is written.
/// </summary>
internal sealed class ArchiveLayout
{
    private string? _fileFolder; // the folder every file is in: "" for the archive's top

    /// <summary>The path's segments, without "." and empty ones; refuses what could point outside the folder.</summary>
    public static string[] Segments(string raw)
    {
        if (raw.Length == 0 || raw.Length > 1024) throw new UploadRefusedException($"Archive entry \"{Shorten(raw)}\": an empty or over-long path.");
        if (raw.Contains('\0')) throw new UploadRefusedException($"Archive entry \"{Shorten(raw)}\": a NUL character in its path.");
        string path = raw.Replace('\\', '/');
        if (path[0] == '/' || path.Length >= 2 && char.IsAsciiLetter(path[0]) && path[1] == ':')
            throw new UploadRefusedException($"Archive entry \"{Shorten(raw)}\": an absolute path; entries must be relative to the version folder.");
        string[] segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => s != ".").ToArray();
        if (segments.Contains(".."))
            throw new UploadRefusedException($"Archive entry \"{Shorten(raw)}\": \"..\" in its path; entries must stay inside the version folder.");
        return segments;
    }

    /// <summary>A folder entry: the archive's one top folder, nothing deeper.</summary>
    public void Folder(string raw)
    {
        if (Segments(raw).Length > 1) throw Nested(raw);
    }

    /// <summary>A file entry's name in the version folder.</summary>
    public string File(string raw)
    {
        string[] segments = Segments(raw);
        if (segments.Length == 0) throw new UploadRefusedException($"Archive entry \"{Shorten(raw)}\": a file with no name.");
        if (segments.Length > 2) throw Nested(raw);
        string folder = segments.Length == 2 ? segments[0] : "";
        _fileFolder ??= folder;
        if (_fileFolder != folder)
            throw new UploadRefusedException($"Archive entry \"{Shorten(raw)}\": the version's files must all be at the archive's top or all in one folder.");
        return segments[^1];
    }

    private static UploadRefusedException Nested(string raw) =>
        new($"Archive entry \"{Shorten(raw)}\": nested folders; an archive holds one version folder's files (at its top or in one folder).");

    private static string Shorten(string raw) => raw.Length <= 200 ? raw.Replace("\0", "\\0") : raw[..200].Replace("\0", "\\0") + "...";
}
