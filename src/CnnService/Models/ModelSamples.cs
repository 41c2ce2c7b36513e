using System.Text.Json;
using System.Text.Json.Nodes;

namespace CnnService.Models;

/// <summary>
/// A model's sample images, for people trying it: <c>Root/&lt;name&gt;/samples/</c>, beside the
/// version folders (any version can use them). An optional <c>samples.json</c> there,
/// <c>{"samples": [{"file": "7.png", "label": "7"}]}</c>, gives their order and true labels;
/// without it every image file in the folder is a sample, by name, unlabelled.
/// </summary>
public static class ModelSamples
{
    public const string Folder = "samples", Manifest = "samples.json";

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".png"] = "image/png", [".jpg"] = "image/jpeg", [".jpeg"] = "image/jpeg", [".webp"] = "image/webp", [".gif"] = "image/gif", [".bmp"] = "image/bmp",
    };

    public sealed record Sample(string File, string? Label);

    public static string FolderOf(string root, string name) => Path.Combine(root, name, Folder);

    /// <summary>The samples of <paramref name="name"/>; none when it has no samples folder. A broken manifest is an <see cref="InvalidDataException"/>.</summary>
    public static IReadOnlyList<Sample> List(string root, string name)
    {
        string folder = FolderOf(root, name);
        if (!Directory.Exists(folder)) return [];
        string manifest = Path.Combine(folder, Manifest);
        if (!File.Exists(manifest))
            return Directory.EnumerateFiles(folder).Select(Path.GetFileName).OfType<string>().Where(IsImageName).Order(StringComparer.Ordinal)
                .Select(f => new Sample(f, null)).ToList();

        try
        {
            var samples = new List<Sample>();
            foreach (JsonNode? entry in JsonNode.Parse(File.ReadAllText(manifest))?["samples"]?.AsArray() ?? [])
            {
                string file = entry?["file"]?.GetValue<string>() ?? throw new InvalidDataException("an entry has no \"file\"");
                if (!IsImageName(file) || !File.Exists(Path.Combine(folder, file))) throw new InvalidDataException($"\"{file}\" is not an image file in the folder");
                samples.Add(new Sample(file, entry["label"]?.GetValue<string>()));
            }

            return samples;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or InvalidDataException)
        {
            throw new InvalidDataException($"{Path.Combine(name, Folder, Manifest)}: {e.Message}", e);
        }
    }

    /// <summary>The path of sample <paramref name="file"/> and its content type, when it is one plain image file name in the folder.</summary>
    public static bool TryGetFile(string root, string name, string file, out string path, out string contentType)
    {
        path = Path.Combine(FolderOf(root, name), file);
        contentType = "";
        if (!IsImageName(file) || !File.Exists(path)) return false;
        contentType = ContentTypes[Path.GetExtension(file)];
        return true;
    }

    /// <summary>One path segment (no separators, not hidden) with an image extension: nothing outside the folder can be named.</summary>
    private static bool IsImageName(string file) =>
        file.Length is > 0 and <= 200 && file[0] != '.' && file.IndexOfAny(['/', '\\', '\0']) < 0 && ContentTypes.ContainsKey(Path.GetExtension(file));
}
