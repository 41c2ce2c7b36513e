using System.Globalization;
using System.Runtime.InteropServices;
using CnnService.Engine.Format;
using CnnService.Engine.Onnx;
using CnnService.Engine.Onnx.Export;
using CnnService.Engine.Runtime;
using Microsoft.ML.OnnxRuntime;
using static CnnService.Benchmarks.Timing;

namespace CnnService.Benchmarks;

/// <summary>
/// <c>seeds</c>: issue 17's table. The engine's own networks (Keras MNIST, LeNet-5, TinyVGG and two 3x3
/// 64->64 convolutions with a classifier head), with seeded random weights, exported by the engine's ONNX
/// exporter and run by ONNX Runtime from that file, so both runtimes run the same weights; a network whose
/// outputs differ stops the run before anything is timed. Batch 64 throughput and batch 1 single-call
/// latency, at each thread count, the two runtimes alternating round by round so a busy shared machine
/// slows both alike.
/// </summary>
public static class SeedComparison
{
    public const string Usage = """
        usage: dotnet run -c Release --project tests/CnnService.Benchmarks -- seeds [--threads 2,1] [--rounds 5] [--seconds S] [--filter TEXT] [--simd LEVEL]

          --threads LIST thread counts, for both runtimes (default: 2,1)
          --rounds N     interleaved rounds per measurement (default: 5)
          --seconds S    time per runtime per round (default: 1)
          --filter TEXT  only networks whose name contains TEXT (keras-mnist, lenet5, tinyvgg, conv3x3-64x2-gap-fc10)
          --simd LEVEL   the engine's widest vectors: vector512, vector256 (the path AVX2-only CPUs take) or scalar
                         (default: the CPU's best); ONNX Runtime picks its kernels from the CPU and has no such switch
        """;

    public const int Batch = 64;

    /// <summary>Largest |engine - ORT| over the largest |engine output| accepted before timing. The small networks
    /// agree to about 1e-6; on the two 64-channel convolutions ONNX Runtime is itself 1.2e-5 from a double-accumulated
    /// reference (the engine 3e-7), so 1e-5 would be too tight. A wrong export is off by far more.</summary>
    public const double Tolerance = 1e-4;

    /// <summary>The networks of the table; <c>Flops</c> marks those reported as GFLOP/s and share of the FMA peak too.</summary>
    public static IReadOnlyList<(string Name, Func<ModelSpec> Spec, bool Flops)> Networks { get; } =
    [
        ("keras-mnist", Architectures.KerasMnist, false),
        ("lenet5", Architectures.LeNet5, false),
        ("tinyvgg", Architectures.TinyVgg, false),
        (ConvCase.TwoConv + "-gap-fc10", ConvCase.TwoConvClassifierSpec, true),
    ];

    /// <summary>One row: img/s (throughput) or ms (latency) for each runtime, and the ratio of their fastest calls.</summary>
    private sealed record Result(string Network, string Work, int Threads, double Engine, double Ort, double FastestRatio, bool Latency, double FlopsPerImage);

    public static int Run(string[] args)
    {
        int rounds = 5;
        double seconds = 1;
        string? filter = null;
        int[] threadCounts = [2, 1];
        SimdLevel simd = Simd.Best;
        if (args is ["-h" or "--help", ..])
        {
            Console.WriteLine(Usage);
            return 0;
        }

        for (int i = 0; i < args.Length; i += 2)
        {
            string? value = i + 1 < args.Length ? args[i + 1] : null;
            bool ok = args[i] switch
            {
                "--rounds" => int.TryParse(value, CultureInfo.InvariantCulture, out rounds) && rounds > 0,
                "--seconds" => double.TryParse(value, CultureInfo.InvariantCulture, out seconds) && seconds > 0,
                "--filter" => (filter = value) is not null,
                "--threads" => TryParseList(value, out threadCounts),
                "--simd" => Enum.TryParse(value, ignoreCase: true, out simd) && Enum.IsDefined(simd) && !int.TryParse(value, out _) && Simd.IsSupported(simd),
                _ => false,
            };
            if (!ok)
            {
                Console.Error.WriteLine($"seeds: bad or unexpected argument '{args[i]}'{(value is null ? "" : $" '{value}'")}\n{Usage}");
                return 2;
            }
        }

        var networks = Networks.Where(n => filter is null || n.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)).ToArray();
        if (networks.Length == 0)
        {
            Console.Error.WriteLine($"seeds: no network matches '{filter}'\n{Usage}");
            return 2;
        }

        Console.WriteLine($"{QuickRun.CpuName()}, {Environment.ProcessorCount} CPUs, engine SIMD {simd}, ONNX Runtime {OrtEnv.Instance().GetVersionString()}, {RuntimeInformation.FrameworkDescription}");
        Console.WriteLine($"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {LoadAverage()}; median of {rounds} interleaved rounds of {F(seconds, "G")} s per runtime; batch {Batch} and 1; threads {string.Join(",", threadCounts)}");
        var startPeaks = QuickRun.MeasurePeaks(samples: 7);
        HostCpuTime? host = HostCpuTime.Read();
        double? trip = CoreRoundTrip.Measure();

        DirectoryInfo folder = Directory.CreateTempSubdirectory("cnnservice-seeds-");
        var results = new List<Result>();
        try
        {
            foreach (var network in networks)
            {
                ModelSpec spec = network.Spec();
                string file = Path.Combine(folder.FullName, network.Name + ".onnx");
                using (FileStream stream = File.Create(file))
                    OnnxWriter.Write(OnnxExporter.Export(spec, WeightInitializer.Initialize(spec, seed: 1)), stream);

                for (int t = 0; t < threadCounts.Length; t++)
                {
                    using var pair = new SeedPair(spec, file, threadCounts[t], simd);
                    if (t == 0)
                    {
                        double diff = pair.MaxDifference();
                        Console.WriteLine($"{network.Name}: exported and loaded into ONNX Runtime; max |engine - ORT| / max |engine| = {F(diff, "0.00E+00")} at batch {Batch} and 1");
                        if (!(diff <= Tolerance))
                        {
                            Console.Error.WriteLine($"seeds: {network.Name}: the engine and ONNX Runtime disagree by {F(diff, "0.00E+00")} of the largest output (tolerance {F(Tolerance, "0E+00")}); stopping before timing it.");
                            return 1;
                        }
                    }

                    double flops = network.Flops ? pair.FlopsPerImage : 0;
                    SeedPair.Measured m = pair.Throughput(rounds, seconds);
                    results.Add(new Result(network.Name, $"b{Batch} img/s", threadCounts[t], m.Engine, m.Ort, m.OrtFastest / m.EngineFastest, Latency: false, flops));
                    m = pair.Latency(rounds, seconds);
                    results.Add(new Result(network.Name, "b1 p50 ms", threadCounts[t], m.Engine * 1e3, m.Ort * 1e3, m.OrtFastest / m.EngineFastest, Latency: true, flops));
                }
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }

        var endPeaks = QuickRun.MeasurePeaks(samples: 7);
        // The engine's share is against the peak of the vectors it was given, so --simd vector256 shows what an AVX2-only CPU would reach of its own.
        bool wide = simd == SimdLevel.Vector512;
        double start = wide ? startPeaks.V512 : startPeaks.V256, end = wide ? endPeaks.V512 : endPeaks.V256, peak = Math.Max(start, end);
        Print(results, wide ? "Vector512" : "Vector256", peak, start, end);
        if (HostCpuTime.Since(host) is { Length: > 0 } stolen) Console.WriteLine($"During the timed runs: {stolen}.");
        CoreRoundTrip.Report(trip);
        return 0;
    }

    private static void Print(List<Result> results, string vectors, double peak, double start, double end)
    {
        Console.WriteLine();
        Console.WriteLine($"FMA peak of one core ({vectors}): {F(peak, "F1")} GFLOP/s (start {F(start, "F1")}, end {F(end, "F1")}); % peak is against peak x threads{(vectors == "Vector512" ? "" : " (ONNX Runtime's too, though it uses the widest vectors the CPU has)")}");
        if (Math.Min(start, end) < 0.9 * peak)
            Console.WriteLine("!! the peak moved by more than 10% during the run: the machine is busy");
        Console.WriteLine("engine/ORT above 1: the engine is faster (img/s: engine / ORT; latency: ORT / engine); fastest: the same for each runtime's fastest call");
        Console.WriteLine("GFLOP/s count each convolution's direct multiply-adds (2 x M x K x P); the engine's Winograd layers (3x3, stride 1) do a quarter of them, so its share of the peak can pass 100 %");
        Console.WriteLine();
        Console.WriteLine($"| {"network",-22} | {"work",-11} | {"threads",7} | {"engine",10} | {"ORT",10} | {"engine/ORT",10} | {"fastest",7} | {"engine GFLOP/s",14} | {"% peak",6} | {"ORT GFLOP/s",11} | {"% peak",6} |");
        Console.WriteLine($"|{new string('-', 24)}|{new string('-', 13)}|{new string('-', 8)}:|{new string('-', 11)}:|{new string('-', 11)}:|{new string('-', 11)}:|{new string('-', 8)}:|{new string('-', 15)}:|{new string('-', 7)}:|{new string('-', 12)}:|{new string('-', 7)}:|");
        foreach (Result r in results.OrderBy(r => r.Latency))
        {
            double ratio = r.Latency ? r.Ort / r.Engine : r.Engine / r.Ort;
            string format = r.Latency ? "F3" : "F0";
            string gflops = "", ortGflops = "", share = "", ortShare = "";
            if (r.FlopsPerImage > 0)
            {
                // A latency is one image per call; a throughput is images per second.
                double a = r.Latency ? r.FlopsPerImage / (r.Engine / 1e3) / 1e9 : r.FlopsPerImage * r.Engine / 1e9;
                double b = r.Latency ? r.FlopsPerImage / (r.Ort / 1e3) / 1e9 : r.FlopsPerImage * r.Ort / 1e9;
                (gflops, ortGflops) = (F(a, "F1"), F(b, "F1"));
                (share, ortShare) = (F(100 * a / (peak * r.Threads), "F1"), F(100 * b / (peak * r.Threads), "F1"));
            }

            Console.WriteLine($"| {r.Network,-22} | {r.Work,-11} | {r.Threads,7} | {F(r.Engine, format),10} | {F(r.Ort, format),10} | {F(ratio, "F2") + "x",10} | {F(r.FastestRatio, "F2") + "x",7} | {gflops,14} | {share,6} | {ortGflops,11} | {ortShare,6} |");
        }
    }

    private static bool TryParseList(string? value, out int[] list)
    {
        list = [];
        if (value is null) return false;
        var parsed = new List<int>();
        foreach (string part in value.Split(','))
        {
            if (!int.TryParse(part, CultureInfo.InvariantCulture, out int n) || n <= 0) return false;
            parsed.Add(n);
        }

        list = parsed.ToArray();
        return true;
    }

    private static string LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ')[..3]) : "unknown";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
