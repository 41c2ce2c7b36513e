namespace CnnService.Tests.Support;

/// <summary>A private models root in a temp folder, filled with copies of shipped model versions; deleted on dispose.</summary>
internal sealed class TempModels : IDisposable
{
    public TempModels()
    {
        Root = Path.Combine(Path.GetTempPath(), "cnn-models-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    /// <summary>Copies <c>models/shipped/shippedVersion</c> to <c>Root/name/version</c>, as a finished version appears: by rename.</summary>
    public string Add(string name, int version, string shipped = "mnist", int shippedVersion = 1)
    {
        string target = Path.Combine(Root, name, version.ToString(System.Globalization.CultureInfo.InvariantCulture));
        string staging = Path.Combine(Root, name, $".{version}.partial");
        Directory.CreateDirectory(staging);
        foreach (string file in Directory.GetFiles(Path.Combine(Fixtures.Models, shipped, shippedVersion.ToString(System.Globalization.CultureInfo.InvariantCulture))))
            File.Copy(file, Path.Combine(staging, Path.GetFileName(file)));
        Directory.Move(staging, target);
        return target;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
