using System.Globalization;
using CnnService.Cli;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Cli;

public class InfoCommandTests
{
    [Fact]
    public void Info_on_a_model_directory_lists_every_layer_with_its_shape_parameters_and_mflops()
    {
        using var temp = new TempModel();
        CliResult r = Cnn.Run("info", "--model", temp.ModelDir);

        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        string[] lines = r.StdoutLines;
        Model model = temp.Model;
        for (int i = 0; i < model.Layers.Count; i++)
        {
            var layer = model.Layers[i];
            string[] cells = Row(lines, i.ToString(CultureInfo.InvariantCulture));
            Assert.Equal(layer.Name ?? "-", cells[1]);
            Assert.StartsWith(layer.Type, cells[2]);
            Assert.Contains(layer.OutputShape.ToString(), cells);
            Assert.Equal(InfoCommand.Count(layer.Parameters), cells[^2]);
            Assert.Equal(InfoCommand.MFlops(layer.FlopsPerImage), cells[^1]);
        }
    }

    [Fact]
    public void Info_ends_with_a_totals_row_of_parameters_and_mflops()
    {
        using var temp = new TempModel();
        CliResult r = Cnn.Run("info", "--model", temp.ModelDir);

        string[] totals = Row(r.StdoutLines, "total");
        Assert.Equal(["total", InfoCommand.Count(temp.Model.Parameters), InfoCommand.MFlops(temp.Model.FlopsPerImage)], totals);
        Assert.Equal("542,230", InfoCommand.Count(temp.Model.Parameters)); // 320 + 540,900 + 1,010
        Assert.StartsWith("   total", r.StdoutLines[^1]);
    }

    [Fact]
    public void Info_prints_name_description_input_and_label_count()
    {
        using var temp = new TempModel();
        CliResult r = Cnn.Run("info", "--model", temp.ModelDir);

        Assert.Contains("model        mnist", r.StdoutLines);
        Assert.Contains("description  Keras MNIST example CNN", r.StdoutLines);
        Assert.Contains(r.StdoutLines, l => l.StartsWith("input        [1,28,28] grayscale", StringComparison.Ordinal));
        Assert.Contains(r.StdoutLines, l => l.StartsWith("labels       10: 0, 1, 2", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("keras-mnist")]
    [InlineData("lenet5")]
    [InlineData("tinyvgg")]
    public void Info_describes_a_built_in_architecture(string arch)
    {
        CliResult r = Cnn.Run("info", "--arch", arch);

        Assert.Equal(0, r.ExitCode);
        Model model = ModelSource.FromArchitecture(arch, EngineOptions.Default with { Threads = 1 });
        Assert.Equal(model.Layers.Count, r.StdoutLines.Count(l => char.IsAsciiDigit(l.TrimStart()[0])));
        Assert.Equal(InfoCommand.Count(model.Parameters), Row(r.StdoutLines, "total")[1]);
    }

    [Fact]
    public void Info_marks_a_relu_that_runs_inside_the_previous_layer_as_fused()
    {
        CliResult r = Cnn.Run("info", "--arch", "keras-mnist");

        Assert.Equal(["1", "-", "relu", "(fused)", "[32,26,26]", "0", "0.022"], Row(r.StdoutLines, "1"));
    }

    [Fact]
    public void Info_marks_a_batchnorm_folded_into_its_conv_and_the_relu_after_it_as_fused()
    {
        CliResult r = Cnn.Run("info", "--arch", "small-vgg");

        Assert.Equal(["1", "bn1", "batchnorm", "(fused)", "[32,28,28]", "128", "0.050"], Row(r.StdoutLines, "1"));
        Assert.Equal(["2", "-", "relu", "(fused)", "[32,28,28]", "0", "0.025"], Row(r.StdoutLines, "2"));
    }

    [Fact]
    public void Info_with_plan_names_the_simd_level_and_how_each_convolution_runs()
    {
        CliResult r = Cnn.Run("info", "--arch", "tinyvgg", "--plan", "--simd", "scalar");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains(r.StdoutLines, l => l.StartsWith("plan         Scalar on ", StringComparison.Ordinal));
        Assert.Equal(["0", "conv_1_1", "conv2d", "3x3", "im2col", "[10,62,62]", "280", "2.076"], Row(r.StdoutLines, "0"));
        Assert.Equal(["4", "-", "maxpool2d", "[10,30,30]", "0", "0.036"], Row(r.StdoutLines, "4"));
    }

    [Fact]
    public void Info_with_plan_shows_the_lowering_the_loaded_model_chose()
    {
        Model model = ModelSource.FromArchitecture("tinyvgg", EngineOptions.Default with { Threads = 1 });

        CliResult r = Cnn.Run("info", "--arch", "tinyvgg", "--plan");

        Assert.Equal(["3x3", ((CnnService.Engine.Layers.Conv2D)model.Layers[2]).Lowering], Row(r.StdoutLines, "2")[3..5]);
    }

    [Fact]
    public void Info_with_plan_says_which_concats_one_image_writes_in_place()
    {
        using var temp = new TempModel(spec: Support.TestGraphs.Fire());

        CliResult r = Cnn.Run("info", "--model", temp.ModelDir, "--plan");

        Assert.Equal(0, r.ExitCode);
        Assert.Equal(["concat", "5,3", "in", "place", "at", "batch", "1", "[64,13,13]"], Row(r.StdoutLines, "6")[2..10]); // j = [e3r, e1r]
    }

    [SimdFact(SimdLevel.Vector256)]   // implicit GEMM is a vector lowering
    public void Info_with_plan_says_which_convolution_takes_a_gate_into_its_weights()
    {
        using var temp = new TempModel(spec: Runtime.GateFusionTests.SqueezeExciteProject(20, 40, 8));

        CliResult r = Cnn.Run("info", "--model", temp.ModelDir, "--plan");

        Assert.Equal(0, r.ExitCode);
        Assert.Equal(["1x1", "implicit-gemm,", "gated", "[8,20,40]"], Row(r.StdoutLines, "8")[4..8]);
    }

    [SimdFact(SimdLevel.Vector512)]   // direct tiles are AVX-512
    public void Info_with_plan_says_whether_a_grouped_convolution_runs_direct_tiles()
    {
        ModelSpec spec = TestModels.Spec(new TensorShape(32, 14, 14),
            Layers.GroupedConvTests.Conv(32, 2, Pair.Square(3), Pair.Square(1), Pair.Square(1), Padding.Of(1, 1)));
        using var temp = new TempModel(spec: spec);

        CliResult r = Cnn.Run("info", "--model", temp.ModelDir, "--plan");

        Assert.Equal(0, r.ExitCode);
        Assert.Equal(["3x3", "groups", "2", "direct"], Row(r.StdoutLines, "0")[3..7]);
    }

    [SimdFact(SimdLevel.Vector512)]   // bands run pointwise tiles, an AVX-512 lowering
    public void Info_with_plan_says_which_depthwise_layer_runs_its_expansion_in_bands()
    {
        using var temp = new TempModel(spec: Runtime.ExpansionFusionTests.ExpandDepthwise(Runtime.ExpansionFusionTests.LargeSide, kernel: 3, stride: 2));

        CliResult r = Cnn.Run("info", "--model", temp.ModelDir, "--plan");

        Assert.Equal(0, r.ExitCode);
        Assert.Equal(["conv2d", "(fused)", "1x1", "pointwise"], Row(r.StdoutLines, "1")[2..6]);
        Assert.Equal(["conv2d", "3x3", "depthwise,", "#1", "in", "bands"], Row(r.StdoutLines, "3")[2..8]);
    }

    [Fact]
    public void Info_with_simd_but_no_plan_is_a_usage_error()
    {
        CliResult r = Cnn.Run("info", "--arch", "tinyvgg", "--simd", "scalar");

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--plan", r.Error);
    }

    [Fact]
    public void Info_with_both_model_and_arch_is_a_usage_error()
    {
        CliResult r = Cnn.Run("info", "--arch", "lenet5", "--model", "x");

        Assert.Equal(2, r.ExitCode);
        Assert.Equal("cnn: give either --model or --arch, not both", r.Error);
    }

    [Fact]
    public void Info_with_an_unknown_architecture_names_the_known_ones()
    {
        CliResult r = Cnn.Run("info", "--arch", "resnet50");

        Assert.Equal(2, r.ExitCode);
        Assert.Equal("cnn: unknown architecture 'resnet50' (known: keras-mnist, lenet5, tinyvgg, small-vgg)", r.Error);
    }

    [SimdFact(SimdLevel.Vector256)]   // the scalar level has one lowering: nothing to measure
    public void Info_with_plan_and_measure_lists_each_candidates_time_and_marks_the_one_kept()
    {
        CliResult r = Cnn.Run("info", "--arch", "tinyvgg", "--plan", "--measure", "--threads", "2");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains(r.StdoutLines, l => l.StartsWith("plan ", StringComparison.Ordinal) && l.Contains("measured: ", StringComparison.Ordinal));
        Assert.Contains("measured ms (* kept)", r.Stdout);
        // "0 conv_1_1 conv2d 3x3 implicit-gemm | implicit-gemm 0.123*, im2col 0.456 | [10,62,62] ...": the time marked is the lowering's.
        string[] conv = Row(r.StdoutLines, "0");
        int kept = Array.FindIndex(conv, c => c.TrimEnd(',').EndsWith('*'));
        Assert.Equal(conv[4], conv[kept - 1]);
    }

    [SimdFact(SimdLevel.Vector256)]
    public void Info_with_a_plan_cache_measures_once_and_then_reads_the_file()
    {
        using var temp = new TempDir();
        string cache = temp.PathOf("plans.json");

        CliResult first = Cnn.Run("info", "--arch", "tinyvgg", "--plan", "--measure", "--plan-cache", cache);
        CliResult second = Cnn.Run("info", "--arch", "tinyvgg", "--plan", "--measure", "--plan-cache", cache);

        Assert.Equal(0, first.ExitCode);
        Assert.True(File.Exists(cache));
        Assert.Contains(first.StdoutLines, l => l.Contains(", 0 from the cache", StringComparison.Ordinal));
        Assert.Equal(0, second.ExitCode);
        Assert.DoesNotContain(second.StdoutLines, l => l.Contains(", 0 from the cache", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--measure")]
    [InlineData("--plan-cache", "plans.json")]
    [InlineData("--threads", "2")]
    public void Info_plan_options_without_what_they_qualify_are_usage_errors(params string[] option)
    {
        CliResult r = Cnn.Run(["info", "--arch", "tinyvgg", .. option]);

        Assert.Equal(2, r.ExitCode);
    }

    /// <summary>The cells of the table row whose first cell is <paramref name="first"/>.</summary>
    private static string[] Row(string[] lines, string first) =>
        lines.Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Single(cells => cells.Length > 0 && cells[0] == first);
}
