using System.Globalization;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Models;

namespace CnnService.Jobs;

/// <summary>
/// The version folders of a model under the models root: <c>&lt;root&gt;/&lt;name&gt;/&lt;version&gt;</c>, versions
/// being positive integers. A new version is one more than the highest there, written atomically by
/// the engine's <see cref="ModelWriter"/>, which never overwrites: if another writer takes the same
/// number first, the next one is tried.
/// </summary>
public static class ModelVersions
{
    private const int MaxAttempts = 10;

    public static string DirectoryOf(string root, string name, int version) =>
        Path.Combine(root, name, version.ToString(CultureInfo.InvariantCulture));

    /// <summary>The highest version under <c>root/name</c>, 0 when there is none. Other folders (a writer's hidden staging folder) are ignored.</summary>
    public static int Latest(string root, string name)
    {
        string folder = Path.Combine(root, name);
        if (!Directory.Exists(folder)) return 0;
        return Directory.EnumerateDirectories(folder)
            .Select(d => ModelDirectory.TryParseVersion(Path.GetFileName(d), out int v) ? v : 0)
            .DefaultIfEmpty(0)
            .Max();
    }

    /// <summary>Writes <paramref name="spec"/> and <paramref name="tensors"/> as the next version of <paramref name="name"/>; returns that version.</summary>
    public static int WriteNext(string root, string name, ModelSpec spec, IReadOnlyList<NamedTensor> tensors)
    {
        for (int attempt = 1; ; attempt++)
        {
            int version = Latest(root, name) + 1;
            string directory = DirectoryOf(root, name, version);
            try
            {
                ModelWriter.Write(directory, spec, tensors);
                return version;
            }
            catch (IOException) when (attempt < MaxAttempts && Directory.Exists(directory))
            {
                // Another writer took this version between our look and our rename: take the next one.
            }
        }
    }
}
