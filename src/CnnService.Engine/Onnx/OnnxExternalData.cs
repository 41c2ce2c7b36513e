using System.Globalization;

namespace CnnService.Engine.Onnx;

/// <summary>
/// Tensor data kept in a separate file (data_location = EXTERNAL). The file must lie inside the
/// model's folder: its location may not be absolute or contain "..", and its real path, every
/// symbolic link along the way resolved, must still be inside the folder's real path.
/// </summary>
internal static class OnnxExternalData
{
    public static byte[] Load(OnnxReadContext c, List<KeyValuePair<string, string>> entries, long expectedBytes, string where)
    {
        string? location = null;
        long offset = 0;
        long? length = null;
        foreach ((string key, string value) in entries)
        {
            switch (key)
            {
                case "location": location = value; break;
                case "offset": offset = Number(value, key); break;
                case "length": length = Number(value, key); break;
            }
        }

        if (string.IsNullOrEmpty(location))
            throw c.Error($"{where}: external data has no location");
        if (c.Folder is null)
            throw c.Error($"{where}: external data '{location}' but the model was read without a folder");
        try
        {
            return Read(c, Resolve(c, location, where), location, offset, length, expectedBytes, where);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw c.Error($"{where}: cannot read external data '{location}': {e.Message}");
        }

        long Number(string text, string key) =>
            long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long v)
                ? v
                : throw c.Error($"{where}: external data {key} '{text}' is not a non-negative integer");
    }

    private static byte[] Read(OnnxReadContext c, string path, string location, long offset, long? length, long expectedBytes, string where)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long fileLength = RandomAccess.GetLength(handle);
        if (offset > fileLength)
            throw c.Error($"{where}: external data offset {offset} is past the end of '{location}' ({fileLength} bytes)");
        long available = fileLength - offset;
        long take = length ?? available;
        if (take > available)
            throw c.Error($"{where}: external data offset {offset} + length {take} is past the end of '{location}' ({fileLength} bytes)");
        if (take != expectedBytes)
            throw c.Error($"{where}: the dims need {expectedBytes} bytes, but the external data in '{location}' is {take} bytes");

        var data = new byte[take];
        int read = 0;
        while (read < data.Length)
        {
            int n = RandomAccess.Read(handle, data.AsSpan(read), offset + read);
            if (n == 0)
                throw c.Error($"{where}: '{location}' ended early (was it changed while being read?)");
            read += n;
        }

        return data;
    }

    /// <summary>The data file's full path, refused unless it is a regular file really inside the model's folder.</summary>
    private static string Resolve(OnnxReadContext c, string location, string where)
    {
        if (location.Contains('\0') || Path.IsPathRooted(location) || location.StartsWith('/') || location.StartsWith('\\'))
            throw c.Error($"{where}: external data location '{location}' is an absolute path; it must be relative to the model's folder");
        foreach (string segment in location.Split('/', '\\'))
        {
            if (segment == "..")
                throw c.Error($"{where}: external data location '{location}' has a '..' segment; it must stay inside the model's folder");
        }

        string folder = RealPath(Path.GetFullPath(c.Folder!));
        string path = Path.GetFullPath(Path.Combine(folder, location));
        if (!File.Exists(path))
            throw c.Error($"{where}: external data file '{location}' does not exist beside the model");
        string real = RealPath(path);
        string inside = Path.EndsInDirectorySeparator(folder) ? folder : folder + Path.DirectorySeparatorChar;
        StringComparison comparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        if (!real.StartsWith(inside, comparison))
            throw c.Error($"{where}: external data location '{location}' leads through a symbolic link to '{real}', outside the model's folder");
        if ((File.GetAttributes(real) & (FileAttributes.Directory | FileAttributes.Device)) != 0)
            throw c.Error($"{where}: external data location '{location}' is not a regular file");
        return real;
    }

    /// <summary>The path with every symbolic link, in the file and in each folder above it, resolved.</summary>
    internal static string RealPath(string fullPath, int hops = 0)
    {
        if (hops > 40)
            throw new IOException($"too many levels of symbolic links at '{fullPath}'");
        string? root = Path.GetPathRoot(fullPath);
        if (string.IsNullOrEmpty(root))
            return fullPath;
        string current = root;
        foreach (string part in fullPath[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            string next = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            string? target = info.LinkTarget;
            // A link's target may be relative to the link's folder and may itself hold links: resolve it again.
            current = target is null ? next : RealPath(Path.GetFullPath(target, current), hops + 1);
        }

        return current;
    }
}
