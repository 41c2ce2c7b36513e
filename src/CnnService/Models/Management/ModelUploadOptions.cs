namespace CnnService.Models.Management;

/// <summary>Limits on an uploaded model version (configuration section <c>Models</c>, beside <see cref="ModelsOptions"/>).</summary>
public sealed class ModelUploadOptions
{
    /// <summary>Largest upload request body, and the most an archive may unpack to in all (counted while unpacking).</summary>
    public long MaxUploadBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>Largest single file of an upload, counted while it is written, whatever an archive's header claims.</summary>
    public long MaxUploadEntryBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Most entries (files and folders) an archive may hold.</summary>
    public int MaxUploadEntries { get; set; } = 32;
}
