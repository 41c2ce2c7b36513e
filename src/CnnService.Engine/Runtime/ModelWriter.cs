using CnnService.Engine.Format;

namespace CnnService.Engine.Runtime;

/// <summary>
/// Writes a model version directory atomically: model.json and weights.safetensors go into a
/// hidden sibling folder first, which is renamed into place only when both are complete and
/// load. A watcher of the models folder (the service) never sees a half-written version, and a
/// crash leaves only the hidden folder behind.
/// </summary>
public static class ModelWriter
{
    public static void Write(string directory, ModelSpec spec, IEnumerable<NamedTensor> tensors)
    {
        string target = Path.GetFullPath(directory);
        if (Directory.Exists(target) || File.Exists(target))
            throw new IOException($"{directory} already exists: a model version is never overwritten; choose a new version.");
        string parent = Path.GetDirectoryName(target) ?? throw new IOException($"{directory}: no parent folder.");
        Directory.CreateDirectory(parent);
        string staging = Path.Combine(parent, $".{Path.GetFileName(target)}.partial-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            File.WriteAllText(Path.Combine(staging, ModelLoader.SpecFile), ModelSpecJson.ToJson(spec));
            SafeTensors.Write(Path.Combine(staging, ModelLoader.WeightsFile), tensors);
            ModelLoader.Load(staging, EngineOptions.Default with { Threads = 1 }); // what we publish must load
            Directory.Move(staging, target);
        }
        catch
        {
            try { Directory.Delete(staging, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }
}
