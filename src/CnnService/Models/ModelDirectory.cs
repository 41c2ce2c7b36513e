using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CnnService.Engine.Runtime;

namespace CnnService.Models;

/// <summary>
/// Reads the models root as TensorFlow Serving lays it out: <c>Root/&lt;name&gt;/&lt;version&gt;/</c> with integer
/// versions. Hidden folders (a model being written stages in one) and anything that is not a plain
/// positive integer are ignored. A model may pin its default version in <c>Root/&lt;name&gt;/serving.json</c>.
/// </summary>
public static class ModelDirectory
{
    public const string ServingFile = "serving.json";

    /// <summary>Model names: one safe path segment.</summary>
    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= 100 && name[0] != '.' && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    public static IEnumerable<string> Names(string root) =>
        Directory.Exists(root)
            ? Directory.EnumerateDirectories(root).Select(Path.GetFileName).OfType<string>().Where(IsValidName).Order(StringComparer.Ordinal)
            : [];

    /// <summary>Version directories that hold a model (model.json and its weights, or model.onnx), by version.</summary>
    public static SortedDictionary<int, string> Versions(string root, string name)
    {
        var versions = new SortedDictionary<int, string>();
        string folder = Path.Combine(root, name);
        if (!Directory.Exists(folder)) return versions;
        foreach (string dir in Directory.EnumerateDirectories(folder))
        {
            if (TryParseVersion(Path.GetFileName(dir), out int version) && ModelLoader.HasModel(dir))
                versions[version] = dir;
        }

        return versions;
    }

    /// <summary>A version folder's name: a plain positive integer ("7", not "07", "+7" or "latest").</summary>
    public static bool TryParseVersion(string folderName, out int version) =>
        int.TryParse(folderName, NumberStyles.None, CultureInfo.InvariantCulture, out version) && version > 0
        && folderName == version.ToString(CultureInfo.InvariantCulture);

    /// <summary>Names, sizes and times of a version's files: when it changes, a version that failed to load is tried again.</summary>
    public static string Stamp(string versionDirectory) =>
        string.Join(";", ModelLoader.FilesOf(versionDirectory).Select(path => new FileInfo(path))
            .Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Name}:{f.Length}:{f.LastWriteTimeUtc.Ticks}")));

    /// <summary>The pinned default version, or null when the highest version is the default (or the file is unreadable).</summary>
    public static int? ReadPin(string root, string name)
    {
        string path = Path.Combine(root, name, ServingFile);
        try
        {
            if (!File.Exists(path)) return null;
            return JsonNode.Parse(File.ReadAllText(path))?["default_version"]?.GetValue<int>();
        }
        catch (Exception e) when (e is IOException or JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    /// <summary>Pins the default version (null removes the pin), atomically: a reader sees the old file or the new one.</summary>
    public static void WritePin(string root, string name, int? version)
    {
        string path = Path.Combine(root, name, ServingFile);
        if (version is null)
        {
            File.Delete(path);
            return;
        }

        string temp = $"{path}.{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temp, new JsonObject { ["default_version"] = version.Value }.ToJsonString());
        File.Move(temp, path, overwrite: true);
    }
}
