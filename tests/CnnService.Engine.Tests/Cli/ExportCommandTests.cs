using CnnService.Cli;
using CnnService.Engine.Format;
using CnnService.Engine.Onnx;
using CnnService.Engine.Onnx.Import;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Onnx;

namespace CnnService.Engine.Tests.Cli;

public class ExportCommandTests
{
    [Fact]
    public void Export_of_a_model_directory_writes_the_onnx_file_and_a_config_json_and_nothing_else()
    {
        using var temp = new TempModel();
        string file = temp.PathOf("out/model.onnx");
        CliResult r = Cnn.Run("export", "--onnx", file, "--model", temp.ModelDir);

        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        Assert.Equal(["config.json", "model.onnx"], Directory.GetFiles(temp.PathOf("out")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.StartsWith($"wrote {file} (", r.StdoutLines[0]);
        Assert.Equal(13L, OnnxReader.Read(file).DefaultOpsetVersion);
    }

    [Fact]
    public void The_exported_pair_is_a_model_version_that_loads_to_the_same_outputs_labels_and_input()
    {
        using var temp = new TempModel();
        string version = temp.PathOf("served/1");
        Assert.Equal(0, Cnn.Run("export", "--onnx", Path.Combine(version, ModelLoader.OnnxFile), "--model", temp.ModelDir).ExitCode);

        Model loaded = ModelLoader.Load(version, new EngineOptions { Threads = 1 });
        Assert.Equal(temp.Spec.Name, loaded.Spec.Name);
        Assert.Equal(temp.Spec.Labels, loaded.Labels);
        Assert.Equal(temp.Spec.Input.Scale, loaded.Spec.Input.Scale);
        Assert.Equal(temp.Spec.Input.Color, loaded.Spec.Input.Color);
        float[] input = TempModel.RandomInput(2 * 784, 5);
        var output = new float[20];
        loaded.Forward(input, output, 2);
        OnnxRuntimeRunner.AssertSame(temp.Forward(input, 2), output);
    }

    [Fact]
    public void Export_of_a_built_in_architecture_uses_the_random_weights_other_verbs_use_and_the_opset_asked_for()
    {
        using var temp = new TempDir();
        string file = temp.PathOf("lenet.onnx");
        CliResult r = Cnn.Run("export", "--onnx", file, "--arch", "lenet5", "--opset", "17");

        Assert.Equal(0, r.ExitCode);
        Assert.Equal(17L, OnnxReader.Read(file).DefaultOpsetVersion);
        Model arch = ModelSource.FromArchitecture("lenet5", new EngineOptions { Threads = 1 });
        float[] input = TempModel.RandomInput(784, 9);
        OnnxRuntimeRunner.AssertSame(OnnxRuntimeRunner.Forward(arch, input, 1), OnnxRuntimeRunner.Run(File.ReadAllBytes(file), input, 1, arch.InputShape));
    }

    [Fact]
    public void Export_never_overwrites_an_existing_file_and_writes_nothing()
    {
        using var temp = new TempModel();
        string file = temp.WriteFile("model.onnx", [1, 2, 3]);
        CliResult r = Cnn.Run("export", "--onnx", file, "--model", temp.ModelDir);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("already exists", r.Error);
        Assert.Equal([1, 2, 3], File.ReadAllBytes(file));
        Assert.False(File.Exists(temp.PathOf("config.json")));
    }

    [Fact]
    public void Export_never_overwrites_a_config_json_beside_the_file()
    {
        using var temp = new TempModel();
        temp.WriteFile("config.json", "{}"u8.ToArray());
        CliResult r = Cnn.Run("export", "--onnx", temp.PathOf("model.onnx"), "--model", temp.ModelDir);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("config.json already exists", r.Error);
        Assert.False(File.Exists(temp.PathOf("model.onnx")));
    }

    [Theory]
    [InlineData("--model", "m", "--arch", "lenet5")]
    [InlineData("--onnx", "x.onnx")]
    [InlineData("--arch", "lenet5")]
    [InlineData("--onnx", "x.onnx", "--arch", "lenet5", "--opset", "12")]
    [InlineData("--onnx", "x.onnx", "--arch", "lenet5", "--opset", "18")]
    [InlineData("--onnx", "x.onnx", "--arch", "resnet")]
    public void Export_with_a_wrong_command_line_exits_2(params string[] args)
    {
        CliResult r = Cnn.Run(["export", .. args]);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("cnn: ", r.Error);
    }

    [Fact]
    public void Export_of_a_model_with_a_layer_onnx_cannot_express_fails_naming_the_layer()
    {
        using var temp = new TempDir();
        ModelSpec spec = new()
        {
            Name = "even-lrn",
            Input = new InputSpec { Channels = 4, Height = 3, Width = 3, Mean = new float[4], Std = [1, 1, 1, 1] },
            Labels = [],
            Layers = [new LayerSpec { Type = "lrn", Name = "norm", Size = 2 }],
        };
        ModelWriter.Write(temp.PathOf("m"), spec, []);
        CliResult r = Cnn.Run("export", "--onnx", temp.PathOf("x.onnx"), "--model", temp.PathOf("m"));

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("norm", r.Error);
        Assert.False(File.Exists(temp.PathOf("x.onnx")));
        Assert.False(File.Exists(temp.PathOf(OnnxConfig.ConfigFile)));
    }

    [Fact]
    public void Help_lists_export_and_import()
    {
        CliResult r = Cnn.Run("--help");
        Assert.Contains(r.StdoutLines, l => l.TrimStart().StartsWith("export ", StringComparison.Ordinal));
        Assert.Contains(r.StdoutLines, l => l.TrimStart().StartsWith("import ", StringComparison.Ordinal));
    }
}
