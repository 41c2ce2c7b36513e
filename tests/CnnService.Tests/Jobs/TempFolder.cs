namespace CnnService.Tests.Jobs;

/// <summary>A private temporary folder, deleted with everything in it on Dispose; it outlives the service hosts a test starts on it.</summary>
public sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("cnnservice-jobs-").FullName;

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { } // a straggling handle; the OS cleans temp
    }
}
