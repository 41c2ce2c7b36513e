namespace CnnService.Tests.Support;

/// <summary>
/// A private temporary folder, deleted with everything in it on Dispose; it outlives the service hosts
/// a test starts on it.
/// </summary>
public sealed class TempFolder : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("cnnservice-").FullName;

    public string Combine(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="relative"/> under the root, creating its folders.</summary>
    public string Write(string relative, byte[] bytes)
    {
        string path = Combine(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Copies the image fixture <paramref name="fixture"/> to <paramref name="relative"/>.</summary>
    public string Copy(string fixture, string relative) => Write(relative, File.ReadAllBytes(Fixtures.Image(fixture)));

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { } // a straggling handle; the OS cleans temp
    }
}
