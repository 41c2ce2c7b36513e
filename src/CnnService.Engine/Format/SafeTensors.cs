namespace CnnService.Engine.Format;

/// <summary>
/// The safetensors weights format: 8-byte little-endian header length N, N bytes of JSON header,
/// then the tensors' raw little-endian bytes. Reading validates the whole layout
/// (<see cref="SafeTensorsHeader"/>); writing produces F32 files like the reference implementation.
/// </summary>
public static class SafeTensors
{
    /// <summary>Reads a weights file; errors name <paramref name="path"/> as given.</summary>
    public static WeightSet Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] file;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (stream.Length > Array.MaxLength)
                throw new ModelFormatException($"{path}: file is {stream.Length} bytes; the limit is {Array.MaxLength}");
            file = new byte[stream.Length];
            stream.ReadExactly(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new ModelFormatException($"{path}: cannot read the file: {e.Message}", e);
        }
        var header = SafeTensorsHeader.Parse(file, path);
        // The weight set keeps slices of this buffer: no second copy of the data.
        return new WeightSet(path, header, file.AsMemory(header.DataStart));
    }

    /// <summary>Parses a whole safetensors file held in memory; the data are copied.</summary>
    public static WeightSet Parse(ReadOnlySpan<byte> file, string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        var header = SafeTensorsHeader.Parse(file, fileName);
        return new WeightSet(fileName, header, file[header.DataStart..].ToArray());
    }

    /// <summary>Writes F32 tensors (sorted by name) and optional string metadata to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, IEnumerable<NamedTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        SafeTensorsWriter.Write(stream, tensors, metadata);

    /// <summary>
    /// Writes the file atomically: a temporary file in the same directory, flushed to disk, then
    /// renamed over <paramref name="path"/>, so a reader never sees a half-written file.
    /// </summary>
    public static void Write(string path, IEnumerable<NamedTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}{TempExtension}");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                SafeTensorsWriter.Write(stream, tensors, metadata);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private const string TempExtension = ".tmp";

    /// <summary>
    /// The file a <see cref="Write(string, IEnumerable{NamedTensor}, IReadOnlyDictionary{string, string}?)"/> was writing
    /// when <paramref name="fileName"/> is its temporary file (".NAME.GUID.tmp", left behind only by a process killed
    /// mid-write), else null.
    /// </summary>
    public static string? TargetOfTempFile(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        const int guidLength = 32;
        int guidStart = fileName.Length - TempExtension.Length - guidLength;
        if (guidStart < 3 || fileName[0] != '.' || fileName[guidStart - 1] != '.' || !fileName.EndsWith(TempExtension, StringComparison.Ordinal)) return null;
        ReadOnlySpan<char> guid = fileName.AsSpan(guidStart, guidLength);
        if (!Guid.TryParseExact(guid, "N", out _)) return null;
        return fileName[1..(guidStart - 1)];
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { } // best effort: the original error matters more
        catch (UnauthorizedAccessException) { }
    }
}
