using CnnService.Engine.Format;
using CnnService.Engine.Onnx;
using CnnService.Engine.Onnx.Export;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Onnx;

namespace CnnService.Engine.Tests.Cli;

public class ImportCommandTests
{
    /// <summary>A keras-mnist model exported as <c>onnx/model.onnx</c>, with or without the config.json export writes.</summary>
    private sealed class Exported : IDisposable
    {
        public Exported(bool config = true)
        {
            Assert.Equal(0, Cnn.Run("export", "--onnx", File, "--model", Model.ModelDir).ExitCode);
            if (!config) System.IO.File.Delete(Model.PathOf("onnx/config.json"));
        }

        public TempModel Model { get; } = new();

        public string File => Model.PathOf("onnx/model.onnx");

        public string Out => Model.PathOf("imported/1");

        public void Dispose() => Model.Dispose();
    }

    [Fact]
    public void Import_writes_model_json_and_weights_that_give_the_onnx_models_outputs()
    {
        using var e = new Exported();
        CliResult r = Cnn.Run("import", e.File, "--out", e.Out);

        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        Assert.StartsWith($"wrote {e.Out}: mnist, ", Assert.Single(r.StdoutLines));
        Assert.Equal([ModelLoader.SpecFile, ModelLoader.WeightsFile], Directory.GetFiles(e.Out).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Model imported = ModelLoader.Load(e.Out, new EngineOptions { Threads = 1 });
        float[] input = TempModel.RandomInput(3 * 784, 11);
        OnnxRuntimeRunner.AssertSame(e.Model.Forward(input, 3), OnnxRuntimeRunner.Forward(imported, input, 3));
        OnnxRuntimeRunner.AssertSame(OnnxRuntimeRunner.Run(System.IO.File.ReadAllBytes(e.File), input, 3, imported.InputShape), OnnxRuntimeRunner.Forward(imported, input, 3));
    }

    [Fact]
    public void Import_takes_name_labels_and_input_from_the_config_json_beside_the_file()
    {
        using var e = new Exported();
        Assert.Equal(0, Cnn.Run("import", e.File, "--out", e.Out).ExitCode);

        ModelSpec spec = ModelSpecJson.Load(Path.Combine(e.Out, ModelLoader.SpecFile));
        Assert.Equal(e.Model.Spec.Name, spec.Name);
        Assert.Equal(e.Model.Spec.Description, spec.Description);
        Assert.Equal(e.Model.Spec.Labels, spec.Labels);
        Assert.Equal(e.Model.Spec.Input.Scale, spec.Input.Scale);
    }

    [Fact]
    public void Flags_win_over_the_config_json()
    {
        using var e = new Exported();
        string labels = e.Model.WriteFile("classes.txt", "zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\n"u8.ToArray());
        CliResult r = Cnn.Run("import", e.File, "--out", e.Out, "--name", "digits", "--labels", labels,
            "--color", "none", "--scale", "0.5", "--mean", "0.25", "--std", "2");

        Assert.Equal(0, r.ExitCode);
        ModelSpec spec = ModelSpecJson.Load(Path.Combine(e.Out, ModelLoader.SpecFile));
        Assert.Equal("digits", spec.Name);
        Assert.Equal(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"], spec.Labels);
        Assert.Equal(ColorMode.None, spec.Input.Color);
        Assert.Equal(0.5f, spec.Input.Scale);
        Assert.Equal([0.25f], spec.Input.Mean);
        Assert.Equal([2f], spec.Input.Std);
    }

    [Fact]
    public void Without_a_config_json_a_one_channel_input_is_grayscale_scaled_by_1_over_255_and_labels_come_from_labels_txt()
    {
        using var e = new Exported(config: false);
        e.Model.WriteFile("onnx/labels.txt", "a\nb\nc\nd\ne\nf\ng\nh\ni\nj"u8.ToArray());
        Assert.Equal(0, Cnn.Run("import", e.File, "--out", e.Out).ExitCode);

        ModelSpec spec = ModelSpecJson.Load(Path.Combine(e.Out, ModelLoader.SpecFile));
        Assert.Equal(ColorMode.Grayscale, spec.Input.Color);
        Assert.Equal(1f / 255f, spec.Input.Scale);
        Assert.Equal(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"], spec.Labels);
    }

    [Fact]
    public void Import_never_overwrites_an_existing_version()
    {
        using var e = new Exported();
        Directory.CreateDirectory(e.Out);
        CliResult r = Cnn.Run("import", e.File, "--out", e.Out);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("already exists", r.Error);
        Assert.Empty(Directory.GetFileSystemEntries(e.Out));
    }

    [Fact]
    public void A_file_that_is_not_onnx_fails_with_the_readers_message_and_writes_nothing()
    {
        using var temp = new TempDir();
        string file = temp.WriteFile("bad.onnx", "not a protobuf at all"u8.ToArray());
        CliResult r = Cnn.Run("import", file, "--out", temp.PathOf("m/1"));

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("bad.onnx", r.Error);
        Assert.False(Directory.Exists(temp.PathOf("m/1")));
    }

    [Fact]
    public void A_mean_with_the_wrong_number_of_values_fails_naming_the_channels()
    {
        using var e = new Exported();
        CliResult r = Cnn.Run("import", e.File, "--out", e.Out, "--mean", "0.1,0.2,0.3");

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("1 channels", r.Error);
    }

    [Theory]
    [InlineData("--out", "x")]
    [InlineData("a.onnx")]
    [InlineData("a.onnx", "b.onnx", "--out", "x")]
    [InlineData("a.onnx", "--out", "x", "--color", "cmyk")]
    [InlineData("a.onnx", "--out", "x", "--std", "1,0,1")]
    [InlineData("a.onnx", "--out", "x", "--mean", "0.1,zero")]
    [InlineData("a.onnx", "--out", "x", "--scale", "0")]
    public void Import_with_a_wrong_command_line_exits_2(params string[] args)
    {
        CliResult r = Cnn.Run(["import", .. args]);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("cnn: ", r.Error);
    }
}
