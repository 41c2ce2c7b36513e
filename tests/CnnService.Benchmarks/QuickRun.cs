using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using CnnService.Engine.Runtime;

namespace CnnService.Benchmarks;

/// <summary>
/// <c>quick</c>: every case of the suite timed with a Stopwatch in one process, best of N, for
/// fast iteration on kernels. Each sample repeats the operation for at least 20 ms after a warm-up
/// that lets tiered JIT finish; GFLOP/s is reported with its ratio to the FMA peak, measured
/// before and after the other cases (the better of the two is kept; a gap flags a busy machine).
/// Not a substitute for BenchmarkDotNet's statistics: one process, no outlier analysis.
/// </summary>
public static class QuickRun
{
    private const double SampleSeconds = 0.02;
    private const double WarmupSeconds = 0.25;

    public const string Usage = """
        usage: dotnet run -c Release --project tests/CnnService.Benchmarks -- quick [--samples N] [--filter TEXT]

          --samples N    samples per case, the best is reported (default: 7)
          --filter TEXT  only cases whose name contains TEXT (case-insensitive); the peak always runs
        """;

    public static int Run(string[] args)
    {
        int samples = 7;
        string? filter = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--samples" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out samples) && samples > 0:
                    i++;
                    break;
                case "--filter" when i + 1 < args.Length:
                    filter = args[++i];
                    break;
                case "-h" or "--help":
                    Console.WriteLine(Usage);
                    return 0;
                default:
                    Console.Error.WriteLine($"quick: unexpected argument '{args[i]}'");
                    Console.Error.WriteLine(Usage);
                    return 2;
            }
        }

        bool Selected(string name) => filter is null || name.Contains(filter, StringComparison.OrdinalIgnoreCase);

        Console.WriteLine($"{CpuName()}, {Environment.ProcessorCount} CPUs, {RuntimeInformation.FrameworkDescription}, best SIMD {Simd.Best}, {samples} samples per case (best reported)");
        Console.WriteLine();

        // The peak is measured before and after the other cases and the better figure kept: on a
        // shared machine a neighbour's burst can halve a single measurement, and a big difference
        // between the two says the ratios of this run are not to be trusted.
        var (start512, start256) = MeasurePeaks(samples);
        var rows = new List<(string Section, string Name, double GFlops, int Threads, string Extra)>();
        foreach (GemmShape shape in GemmShape.All)
        {
            foreach (SimdLevel level in GemmCase.Levels)
            {
                string name = $"{shape} {level}";
                if (!Selected("gemm " + name)) continue;
                var gemm = new GemmCase(shape, level);
                double seconds = Best(gemm.Run, samples);
                rows.Add(("GEMM, 1 thread (M x K x N)", name, shape.Flops / seconds / 1e9, 1, $"{F(seconds * 1e3, "F3")} ms"));
            }
        }

        foreach (SimdLevel level in DirectKernelCase.Levels)
        {
            string name = $"{DirectKernelCase.Name} {level}";
            if (!Selected(name)) continue;
            var direct = new DirectKernelCase(level);
            double seconds = Best(direct.Run, samples);
            rows.Add(("Kernels, 1 thread", name, DirectKernelCase.Flops / seconds / 1e9, 1, $"{F(seconds * 1e3, "F3")} ms"));
        }

        foreach (ConvCase c in ConvCase.All)
        {
            string name = c.ToString();
            if (!Selected("conv " + name)) continue;
            var runner = new ConvRunner(c);
            double seconds = Best(runner.Run, samples);
            rows.Add(("Models (forward pass of one batch)", name, runner.FlopsPerBatch / seconds / 1e9, c.Threads,
                $"{F(c.Batch / seconds, "N0")} img/s, {F(seconds * 1e3, "F3")} ms/batch"));
        }

        var (end512, end256) = MeasurePeaks(samples);
        double peak512 = Math.Max(start512, end512), peak256 = Math.Max(start256, end256);
        bool wide = Simd.IsSupported(SimdLevel.Vector512);
        double peak = Widest((peak512, peak256));

        Console.WriteLine("FMA peak, 1 core (12 independent accumulators)");
        Row("Vector512 FMA", peak512, peak, 1, $"(start {F(start512, "F1")}, end {F(end512, "F1")})", accelerated: wide);
        Row("Vector256 FMA", peak256, peak, 1, $"(start {F(start256, "F1")}, end {F(end256, "F1")})");
        Console.WriteLine($"  => peak {F(peak, "F1")} GFLOP/s per core; ratios below are against peak x threads");
        double start = Widest((start512, start256)), end = Widest((end512, end256));
        if (Math.Min(start, end) < 0.9 * peak)
            Console.WriteLine("  !! the peak moved by more than 10% during the run: the machine is busy, ratios are unreliable");

        foreach (var section in rows.GroupBy(r => r.Section))
        {
            Console.WriteLine();
            Console.WriteLine(section.Key);
            foreach (var r in section) Row(r.Name, r.GFlops, peak, r.Threads, r.Extra);
        }

        return 0;
    }

    internal static string CpuName() => HostCpu.Name;

    /// <summary>One core's FMA peak in GFLOP/s at each width, the best of <paramref name="samples"/> (0 for Vector512 where it is not accelerated).</summary>
    internal static (double V512, double V256) MeasurePeaks(int samples)
    {
        long iterations = FmaKernels.DefaultIterations / 4;
        double v512 = Simd.IsSupported(SimdLevel.Vector512)
            ? FmaKernels.Flops512(iterations) / Best(() => FmaKernels.Vector512Loop(iterations), samples) / 1e9
            : 0;
        double v256 = FmaKernels.Flops256(iterations) / Best(() => FmaKernels.Vector256Loop(iterations), samples) / 1e9;
        return (v512, v256);
    }

    /// <summary>The peak the engine's kernels are measured against: the widest width this CPU accelerates.</summary>
    internal static double Widest((double V512, double V256) peaks) => Simd.IsSupported(SimdLevel.Vector512) ? peaks.V512 : peaks.V256;

    private static void Row(string name, double gflops, double peak, int threads, string extra, bool accelerated = true)
    {
        if (!accelerated)
        {
            Console.WriteLine($"  {name,-28}  not accelerated on this CPU");
            return;
        }

        string ratio = (gflops / (peak * threads)).ToString("P1", CultureInfo.InvariantCulture);
        Console.WriteLine($"  {name,-28} {F(gflops, "F2"),9} GFLOP/s  {ratio,7} of peak{(threads > 1 ? $" x {threads}" : "    ")}  {extra}");
    }

    /// <summary>Seconds per call: the best over <paramref name="samples"/> samples, each the mean of enough calls to last 20 ms.</summary>
    private static double Best(Action op, int samples)
    {
        long warm = Stopwatch.GetTimestamp();
        int calls = 0;
        do
        {
            op();
            calls++;
        }
        while (Stopwatch.GetElapsedTime(warm).TotalSeconds < WarmupSeconds || calls < 3);

        double perCall = Stopwatch.GetElapsedTime(warm).TotalSeconds / calls;
        int repeat = Math.Max(1, (int)Math.Ceiling(SampleSeconds / perCall));
        double best = double.MaxValue;
        for (int s = 0; s < samples; s++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int r = 0; r < repeat; r++) op();
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds / repeat);
        }

        return best;
    }

    private static double Best(Func<float> op, int samples) => Best(() => { op(); }, samples);

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
