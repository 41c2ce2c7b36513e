using System.Globalization;
using CnnService.Engine.Format;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;

namespace CnnService.Cli;

/// <summary><c>cnn info</c>: what a model expects and answers, and a table of its layers with parameters and FLOPs.</summary>
internal static class InfoCommand
{
    private const int LabelsShown = 10;

    private static readonly OptionSpec Plan = new("--plan", TakesValue: false);
    private static readonly OptionSpec Threads = new("--threads", TakesValue: true);

    public static Command Definition { get; } = new(
        "info",
        "describe a model: input, labels, and every layer's shape, parameters and FLOPs",
        $"""
        usage: cnn info --model DIR [--plan [--simd LEVEL] [--measure [--threads T] [--plan-cache F]]]
               cnn info --arch NAME [--plan [--simd LEVEL] [--measure [--threads T] [--plan-cache F]]]

        Describes a model: its name and description, the input it expects, its labels, then a
        table of its layers (index, name, type, output shape, parameters, MFLOPs per image)
        ending with the totals.

          --model DIR   a model directory holding {ModelLoader.SpecFile} and {ModelLoader.WeightsFile}
          --arch NAME   a built-in architecture instead ({ModelSource.ArchNames})
          --plan        add how each layer runs on this machine: a convolution's kernel, groups and
                        the lowering chosen for its shape and SIMD level (direct, pointwise,
                        implicit-gemm, im2col, dense, depthwise), with the CPU and SIMD level
          --simd LEVEL  the SIMD level the plan is for: best (default: {Simd.Best}), vector512,
                        vector256 or scalar
          --measure     choose each convolution's lowering by timing the candidates on this
                        machine (batch 1), and add a column of their ms per pass (* the one kept)
          --threads T   the threads a pass of the measured plan uses (default: 1)
          --plan-cache F  keep the measured choices in the JSON file F, and take those already
                        there (by CPU, SIMD level, threads and layer shape)
          -h, --help    show this help
        """,
        [ModelSource.ModelOption, ModelSource.ArchOption, Plan, ModelSource.SimdOption, ModelSource.MeasureOption, Threads, ModelSource.PlanCacheOption],
        Run);

    private static int Run(ParsedArgs args, TextWriter stdout)
    {
        if (args.Positionals.Count > 0) throw new UsageException($"'cnn info' takes no file arguments (got '{args.Positionals[0]}')");
        bool plan = args.Has(Plan.Name);
        string? simd = args.GetString(ModelSource.SimdOption.Name);
        if (simd is not null && !plan) throw new UsageException("--simd only says which plan --plan shows; add --plan");
        if (args.Has(ModelSource.MeasureOption.Name) && !plan) throw new UsageException("--measure chooses the plan --plan shows; add --plan");
        if (args.GetString(Threads.Name) is not null && !args.Has(ModelSource.MeasureOption.Name)) throw new UsageException("--threads is what --measure times a pass with; add --measure");
        int threads = args.GetInt(Threads.Name, 1, min: 1, max: 1024);
        var options = EngineOptions.Default with { Threads = threads, Simd = ModelSource.ParseSimd(simd) };
        Model model = ModelSource.Load(args, ModelSource.WithPlan(args, options), out string source);
        Write(model, source, stdout, plan);
        return ExitCodes.Ok;
    }

    internal static void Write(Model model, string source, TextWriter stdout, bool plan = false)
    {
        ModelSpec spec = model.Spec;
        InputSpec input = spec.Input;
        stdout.WriteLine($"model        {spec.Name}");
        if (!string.IsNullOrEmpty(spec.Description)) stdout.WriteLine($"description  {spec.Description}");
        stdout.WriteLine($"source       {source}");
        stdout.WriteLine($"input        {model.InputShape} {DescribeColor(input.Color)}, (pixel * {F(input.Scale)} - mean) / std, mean {List(input.Mean)}, std {List(input.Std)}");
        stdout.WriteLine($"output       {model.OutputShape}");
        stdout.WriteLine($"labels       {DescribeLabels(spec.Labels)}");
        if (spec.Metrics is not null) stdout.WriteLine($"metrics      {spec.Metrics.ToJsonString()}");
        if (plan) stdout.WriteLine($"plan         {model.Options.Simd} on {HostCpu.Name}, {Environment.ProcessorCount} CPUs; {LayerPlan.Summary(model)}");
        stdout.WriteLine();

        // A graph says what each layer reads; a chain needs no such column.
        bool graph = Enumerable.Range(0, model.Layers.Count).Any(i => model.InputsOf(i) is not [var only] || only != i - 1);
        var columns = new List<(string, bool)> { ("#", true), ("name", false), ("type", false) };
        if (graph) columns.Add(("inputs", false));
        if (plan) columns.Add(("runs as", false));
        bool measured = plan && model.MeasuredPlan.Count > 0;
        if (measured) columns.Add(("measured ms (* kept)", false));
        columns.AddRange([("output", false), ("parameters", true), ("MFLOPs", true)]);
        var table = new TextTable([.. columns]);
        for (int i = 0; i < model.Layers.Count; i++)
        {
            Layer layer = model.Layers[i];
            var row = new List<string> { i.ToString(CultureInfo.InvariantCulture), layer.Name ?? "-", DescribeType(model, i) };
            if (graph) row.Add(string.Join(",", model.InputsOf(i).Select(t => t < 0 ? "input" : t.ToString(CultureInfo.InvariantCulture))));
            if (plan) row.Add(LayerPlan.Describe(model, i));
            if (measured) row.Add(LayerPlan.Measured(model, i));
            row.AddRange([layer.OutputShape.ToString(), Count(layer.Parameters), MFlops(layer.FlopsPerImage)]);
            table.Add([.. row]);
        }

        var total = new List<string> { "", "total", "" };
        if (graph) total.Add("");
        if (plan) total.Add("");
        if (measured) total.Add("");
        total.AddRange(["", Count(model.Parameters), MFlops(model.FlopsPerImage)]);
        table.Add([.. total]);
        table.Write(stdout);
    }

    internal static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    internal static string MFlops(long flops) => (flops / 1e6).ToString("F3", CultureInfo.InvariantCulture);

    /// <summary>The layer's type; a ReLU that runs inside the conv2d/dense GEMM it reads says so.</summary>
    private static string DescribeType(Model model, int i) => model.IsFusedAway(i) ? $"{model.Layers[i].Type} (fused)" : model.Layers[i].Type;

    private static string DescribeColor(ColorMode color) => color switch
    {
        ColorMode.Grayscale => "grayscale",
        ColorMode.Rgb => "rgb",
        _ => "tensor",
    };

    private static string DescribeLabels(IReadOnlyList<string> labels)
    {
        if (labels.Count == 0) return "none (predictions are reported by index)";
        string shown = string.Join(", ", labels.Take(LabelsShown));
        return $"{labels.Count}: {shown}{(labels.Count > LabelsShown ? ", ..." : "")}";
    }

    private static string List(float[] values) => $"[{string.Join(", ", values.Select(F))}]";

    private static string F(float value) => value.ToString("G7", CultureInfo.InvariantCulture);
}
