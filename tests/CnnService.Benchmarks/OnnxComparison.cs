using System.Globalization;
using CnnService.Engine.Onnx.Import;
using CnnService.Engine.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace CnnService.Benchmarks;

/// <summary>
/// <c>onnx</c>: imported ONNX networks run by the engine against the same files run by ONNX Runtime
/// (default CPU provider, all graph optimisations, intra-op threads = threads), in one process and
/// interleaved round by round, so a busy shared machine slows both alike. Reports images per second,
/// the median of the rounds, and the ratio engine / ONNX Runtime (above 1: the engine is faster); then the
/// same from each runtime's fastest single call over all rounds, which on a shared machine is the figure
/// least disturbed by neighbours (a burst slows some calls, never speeds one up); then the median call's
/// time (the p50 latency of a batch, issue 17's measure at batch 1), the median of the rounds' medians.
/// </summary>
public static class OnnxComparison
{
    public const string Usage = """
        usage: dotnet run -c Release --project tests/CnnService.Benchmarks -- onnx [--models DIR] [--threads N] [--batches 1,8] [--rounds 5] [--seconds S] [--filter TEXT] [--plan measure]

          --models DIR   folder of .onnx files (default: data/onnx/torchvision, made by scripts/make-onnx-models.sh)
          --filter TEXT  only files whose name contains TEXT (default: resnet18, mobilenet_v2, squeezenet1_1 and efficientnet_b0 at opset 13)
          --threads N    threads for both runtimes (default: 2)
          --batches LIST batch sizes (default: 1,8)
          --rounds N     interleaved rounds; the median is reported (default: 5)
          --seconds S    time per runtime per round (default: 1)
          --plan MODE    the engine's plan: fixed (default) or measure (each convolution's lowering timed at load)
        """;

    private static readonly string[] DefaultModels = ["resnet18-opset13", "mobilenet_v2-opset13", "squeezenet1_1-opset13", "efficientnet_b0-opset13"];

    public static int Run(string[] args)
    {
        string models = Path.Combine(RepositoryRoot(), "data", "onnx", "torchvision");
        string? filter = null;
        int threads = 2, rounds = 5;
        double seconds = 1;
        int[] batches = [1, 8];
        PlanMode plan = PlanMode.Fixed;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--models": models = args[i + 1]; break;
                case "--filter": filter = args[i + 1]; break;
                case "--threads": threads = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--rounds": rounds = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--seconds": seconds = double.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--plan": plan = Enum.Parse<PlanMode>(args[i + 1], ignoreCase: true); break;
                case "--batches": batches = args[i + 1].Split(',').Select(b => int.Parse(b, CultureInfo.InvariantCulture)).ToArray(); break;
                default: Console.Error.WriteLine(Usage); return 2;
            }
        }

        if (args.Length % 2 != 0 || !Directory.Exists(models))
        {
            Console.Error.WriteLine(Directory.Exists(models) ? Usage : $"{models}: no such folder (run scripts/make-onnx-models.sh)\n{Usage}");
            return 2;
        }

        string[] files = Directory.GetFiles(models, "*.onnx")
            .Where(f => filter is null ? DefaultModels.Contains(Path.GetFileNameWithoutExtension(f)) : Path.GetFileName(f).Contains(filter, StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal).ToArray();
        Console.WriteLine($"{QuickRun.CpuName()}, {Environment.ProcessorCount} CPUs, {threads} threads, ONNX Runtime {OrtEnv.Instance().GetVersionString()}, median of {rounds} interleaved rounds of {seconds} s, plan {plan.ToString().ToLowerInvariant()}");
        Console.WriteLine($"{"model",-24} {"batch",5} {"engine img/s",13} {"ORT img/s",11} {"engine/ORT",11}   {"best: engine",12} {"ORT",8} {"engine/ORT",11}   {"p50 ms: engine",14} {"ORT",8} {"ORT/engine",11}");
        HostCpuTime? host = HostCpuTime.Read();
        double? trip = CoreRoundTrip.Measure();
        foreach (string file in files)
        {
            var (spec, weights) = OnnxImporter.Import(file);
            Model model = Model.Create(spec, weights, EngineOptions.Default with { Threads = threads, Plan = plan });
            using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            using var session = new InferenceSession(file, options);
            string inputName = session.InputMetadata.Keys.First(), outputName = session.OutputMetadata.Keys.First();
            foreach (int batch in batches)
            {
                var input = new float[batch * model.InputShape.Size];
                var random = new Random(1);
                for (int i = 0; i < input.Length; i++) input[i] = (float)random.NextDouble();
                var output = new float[batch * model.OutputShape.Size];
                using OrtValue tensor = OrtValue.CreateTensorValueFromMemory(input, [batch, model.InputShape.C, model.InputShape.H, model.InputShape.W]);
                using var runOptions = new RunOptions();

                void Engine() => model.Forward(input, output, batch);
                void Ort()
                {
                    using var results = session.Run(runOptions, [inputName], [tensor], [outputName]);
                }

                Timing.WarmUp(Engine);
                Timing.WarmUp(Ort);
                var ours = new List<double>();
                var theirs = new List<double>();
                var oursP50 = new List<double>();
                var theirsP50 = new List<double>();
                double oursBest = double.MaxValue, theirsBest = double.MaxValue;
                for (int r = 0; r < rounds; r++)
                {
                    Timing.Settle();
                    ours.Add(batch * Timing.Rate(Engine, seconds, ref oursBest, out double median));
                    oursP50.Add(median);
                    Timing.Settle();
                    theirs.Add(batch * Timing.Rate(Ort, seconds, ref theirsBest, out median));
                    theirsP50.Add(median);
                }

                double a = Timing.Median(ours), b = Timing.Median(theirs), bestA = batch / oursBest, bestB = batch / theirsBest;
                double p50A = Timing.Median(oursP50) * 1e3, p50B = Timing.Median(theirsP50) * 1e3;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{Path.GetFileNameWithoutExtension(file),-24} {batch,5} {a,13:F1} {b,11:F1} {a / b,10:F2}x   {bestA,12:F1} {bestB,8:F1} {bestA / bestB,10:F2}x   {p50A,14:F3} {p50B,8:F3} {p50B / p50A,10:F2}x"));
            }
        }

        if (HostCpuTime.Since(host) is { Length: > 0 } stolen) Console.WriteLine($"During the runs: {stolen}.");
        CoreRoundTrip.Report(trip);
        return 0;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CnnService.sln"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }
}
