using CnnService.Engine.Format;

namespace CnnService.Engine.Runtime;

/// <summary>Loads a model version directory: <c>model.json</c> plus <c>weights.safetensors</c>.</summary>
public static class ModelLoader
{
    public const string SpecFile = "model.json";
    public const string WeightsFile = "weights.safetensors";

    public static Model Load(string directory, EngineOptions? options = null)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"{directory}: no such model directory.");
        string specPath = Path.Combine(directory, SpecFile), weightsPath = Path.Combine(directory, WeightsFile);
        if (!File.Exists(specPath)) throw new FileNotFoundException($"{specPath}: missing (a model directory holds {SpecFile} and {WeightsFile}).", specPath);
        if (!File.Exists(weightsPath)) throw new FileNotFoundException($"{weightsPath}: missing (a model directory holds {SpecFile} and {WeightsFile}).", weightsPath);

        ModelSpec spec = ModelSpecJson.Load(specPath);
        WeightSet weights = SafeTensors.Read(weightsPath);
        return Model.Create(spec, weights, options);
    }
}
