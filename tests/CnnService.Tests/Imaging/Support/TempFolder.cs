namespace CnnService.Tests.Imaging.Support;

/// <summary>A private temporary directory, deleted with everything in it on Dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("cnnservice-imaging-").FullName;

    public string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="relative"/> under the root, creating its folders.</summary>
    public string Write(string relative, byte[] bytes)
    {
        string path = PathOf(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Copies the image fixture <paramref name="fixture"/> to <paramref name="relative"/>.</summary>
    public string Copy(string fixture, string relative) => Write(relative, ImageFixtures.Read(fixture));

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
