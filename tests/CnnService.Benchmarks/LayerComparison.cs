using System.Globalization;
using System.Text.Json;
using CnnService.Engine.Onnx.Import;
using CnnService.Engine.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace CnnService.Benchmarks;

/// <summary>
/// <c>layers</c>: where one ONNX network's pass goes in each runtime, at batch 1 unless asked. ONNX Runtime's own profiler
/// (<see cref="SessionOptions.EnableProfiling"/>) times every node of its optimised graph (fused and reordered as it runs
/// them: a Conv with its activation is one node, NCHWc reorders are nodes); the engine's per-layer timing
/// (<see cref="Model.TimeLayers(ReadOnlySpan{float}, int, int, out double[])"/>) every layer of its plan. Both report
/// medians, so each list adds up to a typical pass, by operator and then the slowest nodes and layers. The two graphs
/// are not the same nodes, so compare by operator and by the layers' names, not row by row.
/// </summary>
public static class LayerComparison
{
    public const string Usage = """
        usage: dotnet run -c Release --project tests/CnnService.Benchmarks -- layers --model FILE [--threads N] [--batch N] [--runs N] [--top N]

          --model FILE   an .onnx file (for example data/onnx/torchvision/mobilenet_v2-opset13.onnx, made by scripts/make-onnx-models.sh)
          --threads N    threads for both runtimes (default: 1)
          --batch N      images a pass (default: 1; the network's ONNX input must have a free batch dimension)
          --runs N       passes timed in each runtime (default: 200)
          --top N        slowest nodes and layers listed (default: 12)
        """;

    public static int Run(string[] args)
    {
        string? file = null;
        int threads = 1, batch = 1, runs = 200, top = 12;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--model": file = args[i + 1]; break;
                case "--threads": threads = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--batch": batch = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--runs": runs = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--top": top = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine(Usage); return 2;
            }
        }

        if (file is null || !File.Exists(file) || threads < 1 || batch < 1 || runs < 1 || top < 1)
        {
            Console.Error.WriteLine(file is not null && !File.Exists(file) ? $"layers: {file} does not exist." : Usage);
            return 2;
        }

        var (spec, weights) = OnnxImporter.Import(file);
        Model model = Model.Create(spec, weights, EngineOptions.Default with { Threads = threads });
        var input = new float[batch * model.InputShape.Size];
        var random = new Random(1);
        for (int i = 0; i < input.Length; i++) input[i] = (float)random.NextDouble();

        Console.WriteLine($"{QuickRun.CpuName()}, {Environment.ProcessorCount} CPUs, {threads} thread(s), batch {batch}, ONNX Runtime {OrtEnv.Instance().GetVersionString()}, median of {runs} passes each");
        Console.WriteLine($"{Path.GetFileName(file)}");
        HostCpuTime? host = HostCpuTime.Read();
        double? trip = CoreRoundTrip.Measure();

        var ort = OrtNodes(file, model, input, batch, threads, runs);
        Timing.Settle(); // ONNX Runtime's workers, spinning after its last Run, would take the engine helper's core
        Timing.WarmUp(() => model.TimeLayers(input, batch, 1)); // the per-layer timing is a path of its own, compiled as it runs
        model.TimeLayers(input, batch, runs, out double[] medians);
        var engine = new List<(string Name, string Op, double Ms)>();
        for (int i = 0; i < medians.Length; i++)
            if (model.RunsLayer(i)) engine.Add((model.Layers[i].Name ?? $"#{i}", model.Layers[i].Type, medians[i] * 1000));

        Print("ONNX Runtime (its profiler, per node of its optimised graph)", ort, top);
        Print("engine (cnn bench --per-layer's medians, per layer of its plan)", engine, top);
        if (HostCpuTime.Since(host) is { Length: > 0 } stolen) Console.WriteLine($"During the runs: {stolen}.");
        CoreRoundTrip.Report(trip);
        return 0;
    }

    /// <summary>Each node's median kernel time over <paramref name="runs"/> profiled passes (after one unprofiled warm-up pass).</summary>
    private static List<(string Name, string Op, double Ms)> OrtNodes(string file, Model model, float[] input, int batch, int threads, int runs)
    {
        string prefix = Path.Combine(Path.GetTempPath(), $"cnnservice-ort-profile-{Environment.ProcessId}");
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        options.EnableProfiling = true;
        options.ProfileOutputPathPrefix = prefix;
        using var session = new InferenceSession(file, options);
        string inputName = session.InputMetadata.Keys.First(), outputName = session.OutputMetadata.Keys.First();
        using OrtValue tensor = OrtValue.CreateTensorValueFromMemory(input, [batch, model.InputShape.C, model.InputShape.H, model.InputShape.W]);
        using var runOptions = new RunOptions();
        for (int r = 0; r <= runs; r++)
        {
            using var results = session.Run(runOptions, [inputName], [tensor], [outputName]);
        }

        string trace = session.EndProfiling();
        try
        {
            var times = new Dictionary<string, (string Op, List<double> Us)>(StringComparer.Ordinal);
            using var doc = JsonDocument.Parse(File.ReadAllText(trace));
            foreach (JsonElement e in doc.RootElement.EnumerateArray())
            {
                // Kernel events are "<node>_kernel_time" in the "Node" category, with the operator in args.op_name.
                if (e.GetProperty("cat").GetString() != "Node") continue;
                string name = e.GetProperty("name").GetString() ?? "";
                if (!name.EndsWith("_kernel_time", StringComparison.Ordinal)) continue;
                name = name[..^"_kernel_time".Length];
                string op = e.TryGetProperty("args", out JsonElement a) && a.TryGetProperty("op_name", out JsonElement o) ? o.GetString() ?? "?" : "?";
                if (!times.TryGetValue(name, out var entry)) times[name] = entry = (op, new List<double>());
                entry.Us.Add(e.GetProperty("dur").GetDouble());
            }

            // The first pass (the warm-up) is dropped where a node has one more sample than the rest.
            return times.Select(t => (t.Key, t.Value.Op, Timing.Median(t.Value.Us.Count > runs ? t.Value.Us.Skip(1).ToList() : t.Value.Us) / 1000)).ToList();
        }
        finally
        {
            File.Delete(trace);
        }
    }

    private static void Print(string title, List<(string Name, string Op, double Ms)> rows, int top)
    {
        double total = rows.Sum(r => r.Ms);
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{title}: {total:F3} ms over {rows.Count}"));
        foreach (var op in rows.GroupBy(r => r.Op).Select(g => (Op: g.Key, Count: g.Count(), Ms: g.Sum(r => r.Ms))).OrderByDescending(g => g.Ms))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {op.Op,-20} {op.Count,4} {op.Ms,9:F3} ms {100 * op.Ms / total,5:F1} %"));
        Console.WriteLine("  slowest:");
        foreach (var r in rows.OrderByDescending(r => r.Ms).Take(top))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {r.Ms,9:F3} ms  {r.Op,-20} {r.Name}"));
    }
}
