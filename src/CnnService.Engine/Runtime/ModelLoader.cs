using CnnService.Engine.Format;
using CnnService.Engine.Onnx.Import;

namespace CnnService.Engine.Runtime;

/// <summary>
/// Loads a model version directory: the project's own <c>model.json</c> plus <c>weights.safetensors</c>,
/// or, as Triton's model repository does, a <c>model.onnx</c> with an optional <c>config.json</c> and
/// <c>labels.txt</c> beside it (<see cref="OnnxConfig"/>). A folder with both kinds is ambiguous and refused.
/// </summary>
public static class ModelLoader
{
    public const string SpecFile = "model.json";
    public const string WeightsFile = "weights.safetensors";
    public const string OnnxFile = "model.onnx";

    /// <summary>Whether the directory holds a model in either form (it may still fail to load).</summary>
    public static bool HasModel(string directory) =>
        File.Exists(Path.Combine(directory, SpecFile)) && File.Exists(Path.Combine(directory, WeightsFile))
        || File.Exists(Path.Combine(directory, OnnxFile));

    /// <summary>The files a version is made of, those that exist: a change to any is a new version of the model.</summary>
    public static IReadOnlyList<string> FilesOf(string directory) =>
        new[] { SpecFile, WeightsFile, OnnxFile, OnnxConfig.ConfigFile, OnnxConfig.LabelsFile }
            .Select(f => Path.Combine(directory, f)).Where(File.Exists).ToArray();

    /// <summary>The file holding the weights: what a version's hash is computed over.</summary>
    public static string WeightsPath(string directory) =>
        File.Exists(Path.Combine(directory, SpecFile)) ? Path.Combine(directory, WeightsFile) : Path.Combine(directory, OnnxFile);

    /// <summary>A name for a model that states none: models/NAME/3 is NAME, any other folder its own name.</summary>
    private static string NameOf(string directory)
    {
        var dir = new DirectoryInfo(Path.GetFullPath(directory));
        return int.TryParse(dir.Name, out _) && dir.Parent is { } parent ? parent.Name : dir.Name;
    }

    public static Model Load(string directory, EngineOptions? options = null)
    {
        var (spec, weights) = Read(directory);
        return Model.Create(spec, weights, options);
    }

    /// <summary>The spec and weights of a version directory, either form, without building the model.</summary>
    public static (ModelSpec Spec, IWeightSource Weights) Read(string directory)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"{directory}: no such model directory.");
        string specPath = Path.Combine(directory, SpecFile), weightsPath = Path.Combine(directory, WeightsFile), onnxPath = Path.Combine(directory, OnnxFile);
        bool own = File.Exists(specPath), onnx = File.Exists(onnxPath);
        if (own && onnx)
            throw new ModelFormatException($"{directory}: holds both {SpecFile} and {OnnxFile}; a version folder holds one model (keep one).");
        if (onnx)
        {
            OnnxImportOptions options = OnnxConfig.Load(directory);
            return OnnxImporter.Import(onnxPath, options with { Name = options.Name ?? NameOf(directory) });
        }
        if (!own) throw new FileNotFoundException($"{specPath}: missing (a model directory holds {SpecFile} and {WeightsFile}, or {OnnxFile}).", specPath);
        if (!File.Exists(weightsPath)) throw new FileNotFoundException($"{weightsPath}: missing (a model directory holds {SpecFile} and {WeightsFile}).", weightsPath);

        ModelSpec spec = ModelSpecJson.Load(specPath);
        WeightSet weights = SafeTensors.Read(weightsPath);
        return (spec, weights);
    }
}
