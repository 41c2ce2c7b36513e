using System.Buffers;
using CnnService.Engine.Onnx.Import;
using CnnService.Engine.Runtime;

namespace CnnService.Models.Management;

/// <summary>
/// Writes an upload's files into the staging folder: only the files a version is made of, each once, each and all
/// together within the limits, counted as the bytes arrive (an archive header's size is never trusted or allocated).
/// </summary>
internal sealed class VersionFolderWriter(string folder, ModelUploadOptions limits)
{
    /// <summary>The files a version folder may hold (<see cref="ModelLoader"/>'s two forms).</summary>
    public static readonly string[] FileNames = [ModelLoader.SpecFile, ModelLoader.WeightsFile, ModelLoader.OnnxFile, OnnxConfig.ConfigFile, OnnxConfig.LabelsFile];

    private readonly HashSet<string> _written = new(StringComparer.Ordinal);
    private long _total;
    private int _entries;

    /// <summary>One more archive entry or multipart part; past the limit, the upload is refused.</summary>
    public void CountEntry()
    {
        if (++_entries > limits.MaxUploadEntries)
            throw new UploadRefusedException($"The upload holds more than {limits.MaxUploadEntries} entries (Models:MaxUploadEntries).");
    }

    public async Task WriteAsync(string fileName, Stream source, string shownAs, CancellationToken cancellationToken)
    {
        if (!FileNames.Contains(fileName, StringComparer.Ordinal))
            throw new UploadRefusedException($"\"{shownAs}\" is not a file of a model version; expected {string.Join(", ", FileNames)}.");
        if (!_written.Add(fileName)) throw new UploadRefusedException($"\"{shownAs}\": {fileName} appears twice in the upload.");

        byte[] buffer = ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            await using var target = new FileStream(Path.Combine(folder, fileName), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, useAsync: true);
            long length = 0;
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
            {
                length += read;
                _total += read;
                if (length > limits.MaxUploadEntryBytes)
                    throw new UploadRefusedException($"\"{shownAs}\" is larger than the limit of {limits.MaxUploadEntryBytes:N0} bytes per file (Models:MaxUploadEntryBytes).");
                if (_total > limits.MaxUploadBytes)
                    throw new UploadRefusedException($"The upload unpacks to more than the limit of {limits.MaxUploadBytes:N0} bytes (Models:MaxUploadBytes).");
                await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
