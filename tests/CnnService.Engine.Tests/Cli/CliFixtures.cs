using CnnService.Cli;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Cli;

/// <summary>What one in-process run of <c>cnn</c> printed and returned.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public string[] StdoutLines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();

    public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();

    /// <summary>The single stderr line of a failed run (asserts there is exactly one and no stdout).</summary>
    public string Error
    {
        get
        {
            Assert.Equal("", Stdout);
            return Assert.Single(StderrLines);
        }
    }
}

/// <summary>Runs <c>cnn</c> in-process, capturing what it prints.</summary>
internal static class Cnn
{
    public static CliResult Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(args, stdout, stderr);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }
}

/// <summary>A private temporary directory, deleted with everything in it on Dispose.</summary>
internal class TempDir : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("cnnservice-cli-").FullName;

    public string PathOf(string name) => Path.Combine(Root, name);

    /// <summary>Writes <paramref name="bytes"/> to a file under the root and returns its path.</summary>
    public string WriteFile(string name, byte[] bytes)
    {
        string path = PathOf(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

/// <summary>
/// A temporary directory holding a Keras MNIST model (or the spec given) with random weights, saved the way a real
/// model version is (model.json + weights.safetensors), plus room for input files.
/// </summary>
internal sealed class TempModel : TempDir
{
    public TempModel(int seed = 7, ModelSpec? spec = null)
    {
        Spec = spec ?? Architectures.KerasMnist();
        Directory.CreateDirectory(ModelDir);
        WeightSet weights = WeightInitializer.Initialize(Spec, seed);
        SafeTensors.Write(Path.Combine(ModelDir, ModelLoader.WeightsFile), weights.AllFloat32());
        File.WriteAllText(Path.Combine(ModelDir, ModelLoader.SpecFile), ModelSpecJson.ToJson(Spec));
        Model = ModelLoader.Load(ModelDir, new EngineOptions { Threads = 1 });
    }

    public string ModelDir => PathOf("model");

    public ModelSpec Spec { get; }

    /// <summary>The saved model, loaded back (1 thread).</summary>
    public Model Model { get; }

    public float[] Forward(float[] input, int batch)
    {
        var output = new float[batch * Model.OutputShape.Size];
        Model.Forward(input, output, batch);
        return output;
    }

    public static float[] RandomInput(int count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)random.NextDouble();
        return values;
    }
}
