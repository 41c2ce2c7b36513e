using System.Globalization;

namespace CnnService.Tests.Support;

/// <summary>A private models root in a temp folder, filled with copies of shipped model versions; deleted on dispose.</summary>
internal sealed class TempModels : IDisposable
{
    private readonly TempFolder _folder = new();

    public string Root => _folder.Root;

    /// <summary>Copies <c>models/shipped/shippedVersion</c> to <c>Root/name/version</c>, as a finished version appears: by rename.</summary>
    public string Add(string name, int version, string shipped = "mnist", int shippedVersion = 1)
    {
        string target = _folder.Combine(name, version.ToString(CultureInfo.InvariantCulture));
        string staging = _folder.Combine(name, $".{version}.partial");
        Directory.CreateDirectory(staging);
        foreach (string file in Directory.GetFiles(Path.Combine(Fixtures.Models, shipped, shippedVersion.ToString(CultureInfo.InvariantCulture))))
            File.Copy(file, Path.Combine(staging, Path.GetFileName(file)));
        Directory.Move(staging, target);
        return target;
    }

    public void Dispose() => _folder.Dispose();
}
