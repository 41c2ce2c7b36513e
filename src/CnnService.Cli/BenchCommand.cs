using System.Diagnostics;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using CnnService.Engine.Runtime;

namespace CnnService.Cli;

/// <summary>
/// <c>cnn bench</c>: times repeated forward passes of one batch of seeded random input and
/// reports throughput, latency percentiles and the achieved GFLOP/s.
/// </summary>
internal static class BenchCommand
{
    public const int InputSeed = 1;
    public const double DefaultSeconds = 5;
    public const double DefaultWarmup = 1;

    private static readonly OptionSpec Batch = new("--batch", TakesValue: true);
    private static readonly OptionSpec Threads = new("--threads", TakesValue: true);
    private static readonly OptionSpec Seconds = new("--seconds", TakesValue: true);
    private static readonly OptionSpec Warmup = new("--warmup", TakesValue: true);
    private static readonly OptionSpec Json = new("--json", TakesValue: false);
    private static readonly OptionSpec PerLayer = new("--per-layer", TakesValue: false);

    public static Command Definition { get; } = new(
        "bench",
        "time forward passes and report images/s, latency and GFLOP/s",
        $"""
        usage: cnn bench (--model PATH | --arch NAME) [--batch N] [--threads T] [--seconds S]
                         [--warmup S] [--simd LEVEL] [--measure [--plan-cache F]] [--per-layer] [--json]

        Runs forward passes of one batch of seeded random input: first a warm-up, then as many
        as fit in the measuring time, each timed. Reports images per second, milliseconds per
        batch at the 50th and 99th percentiles, and the achieved GFLOP/s (the model's FLOPs per
        image times images per second; a convolution counts its direct multiply-adds, though a 3x3
        stride-1 layer on the Winograd lowering does a quarter of them), with the CPU, model, batch,
        threads and SIMD level. With
        two threads or more, also a cache line's round trip between two threads before and after
        the run: on a shared VM the host may place the CPUs near (one L3) or far apart, and move
        them while a process runs, and every layer two threads share follows it.

          --model PATH   a model directory ({ModelLoader.SpecFile} + {ModelLoader.WeightsFile}, or {ModelLoader.OnnxFile}),
                         or an .onnx file
          --arch NAME    a built-in architecture with random weights, seed {ModelSource.ArchSeed} ({ModelSource.ArchNames})
          --batch N      images per forward pass (default: 1)
          --threads T    threads per forward pass (default: {Environment.ProcessorCount}, the CPUs available)
          --seconds S    how long to measure (default: {DefaultSeconds})
          --warmup S     how long to warm up first (default: {DefaultWarmup}; at least one pass runs)
          --simd LEVEL   best (default: {Simd.Best}), vector512, vector256 or scalar
          --measure      choose each convolution's lowering by timing the candidates on this
                         machine at load (batch 1, these threads), not by its shape alone
          --plan-cache F with --measure: keep the choices in the JSON file F, and take those
                         already there (by CPU, SIMD level, threads and layer shape)
          --per-layer    then time each layer for as long again and print where a pass goes: for
                         every layer that runs, its index, name, type, output shape, images per
                         chunk (a run of layers takes a chunk of images through all of them while
                         it is in L2; the batch for a layer run over all of it), ms per pass (best
                         of the passes, and the median: the medians add up to a typical pass),
                         the medians of the calling thread's time in it (all but its waits for
                         helpers) and the helper threads' time in its chunks (two threads that
                         split a layer evenly show two equal figures; helpers 0: it ran on the
                         caller alone), GFLOP/s at its best and share of the pass (of the sum of
                         the medians)
          --json         print one JSON object instead of text: images_per_sec, latency_ms_p50,
                         latency_ms_p99, gflops, model, batch, threads, simd, cpu, cpus and more
                         (with --per-layer, a "layers" array too)
          -h, --help     show this help
        """,
        [ModelSource.ModelOption, ModelSource.ArchOption, Batch, Threads, Seconds, Warmup, ModelSource.SimdOption, ModelSource.MeasureOption, ModelSource.PlanCacheOption, PerLayer, Json],
        Run);

    private static int Run(ParsedArgs args, TextWriter stdout)
    {
        if (args.Positionals.Count > 0) throw new UsageException($"'cnn bench' takes no file arguments (got '{args.Positionals[0]}')");
        int batch = args.GetInt(Batch.Name, 1, min: 1);
        int threads = args.GetInt(Threads.Name, Environment.ProcessorCount, min: 1, max: 1024);
        double seconds = args.GetDouble(Seconds.Name, DefaultSeconds, min: 0, minExclusive: true, max: 86_400);
        double warmup = args.GetDouble(Warmup.Name, DefaultWarmup, min: 0, minExclusive: false, max: 86_400);
        SimdLevel simd = ModelSource.ParseSimd(args.GetString(ModelSource.SimdOption.Name));
        args.RequireExactlyOne(ModelSource.ModelOption.Name, ModelSource.ArchOption.Name);

        Model model = ModelSource.Load(args, ModelSource.WithPlan(args, new EngineOptions { Threads = threads, Simd = simd }), out string source);
        if ((long)batch * model.InputShape.Size > Array.MaxLength || (long)batch * model.OutputShape.Size > Array.MaxLength)
            throw new UsageException($"--batch {batch} is too large for input {model.InputShape}");

        HostCpuTime? before = HostCpuTime.Read();
        double? tripBefore = threads > 1 ? CoreToCore.RoundTripNanoseconds() : null;
        BenchResult result = Measure(model, batch, seconds, warmup) with { Host = HostCpuTime.Since(before) };
        if (tripBefore is { } first && CoreToCore.RoundTripNanoseconds() is { } last) result = result with { CoreRoundTripNs = (first, last) };
        LayerTime[]? layers = args.Has(PerLayer.Name) ? TimeLayers(model, batch, seconds, result) : null;
        if (args.Has(Json.Name)) WriteJson(stdout, model, source, result, layers);
        else WriteText(stdout, model, source, result, layers);
        return ExitCodes.Ok;
    }

    internal sealed record BenchResult(int Batch, int Batches, double Seconds, double WarmupSeconds, double[] SortedLatencyMs)
    {
        public double ImagesPerSecond => Batch * (double)Batches / Seconds;
        public double P50 => Percentile(SortedLatencyMs, 0.50);
        public double P99 => Percentile(SortedLatencyMs, 0.99);
        public double Mean => SortedLatencyMs.Average();

        /// <summary>The machine's stolen and idle share of CPU time over the warm-up and the run (<see cref="HostCpuTime"/>); empty off Linux.</summary>
        public string Host { get; init; } = "";

        /// <summary>A cache line's round trip between two threads before and after the run (<see cref="CoreToCore"/>), with two threads or more.</summary>
        public (double Start, double End)? CoreRoundTripNs { get; init; }
    }

    /// <summary>One row of the per-layer view: a layer that runs, its best and median time per pass, the medians of the calling
    /// thread's time in it and the helpers' (<see cref="LayerProfile"/>), and its share of the medians' sum.</summary>
    internal sealed record LayerTime(int Index, string Name, string Type, string Detail, string Output, int Chunk, double Ms, double MedianMs,
        double CallerMs, double HelpersMs, double GFlops, double Share);

    /// <summary>
    /// Times every layer over as many passes as fill <paramref name="seconds"/> again (at least 3), keeping each
    /// layer's best (the least disturbed figure on a shared machine, and what the layer can do) and its median
    /// (the medians add up to a typical pass: a layer whose median is far above its best is where the pass loses).
    /// </summary>
    internal static LayerTime[] TimeLayers(Model model, int batch, double seconds, BenchResult result)
    {
        double passSeconds = Math.Max(result.Mean / 1000, 1e-6);
        int repeats = (int)Math.Clamp(seconds / passSeconds, 3, 100_000);
        float[] input = RandomInput(model, batch);
        // Its own warm-up first: the per-layer timing is a code path of its own, compiled in tiers as it runs, and its
        // first 60-odd passes ran 20-40 % slow (squeezenet1_1, one thread).
        model.ProfileLayers(input, batch, (int)Math.Clamp(result.WarmupSeconds / passSeconds, 1, 100_000));
        LayerProfile profile = model.ProfileLayers(input, batch, repeats);
        double[] times = profile.Best, medians = profile.Median;
        double total = 0;
        for (int i = 0; i < times.Length; i++) if (model.RunsLayer(i, batch)) total += medians[i];

        var rows = new List<LayerTime>();
        for (int i = 0; i < times.Length; i++)
        {
            if (!model.RunsLayer(i, batch)) continue;
            var layer = model.Layers[i];
            double gflops = times[i] > 0 ? layer.FlopsPerImage * (double)batch / times[i] / 1e9 : 0;
            rows.Add(new LayerTime(i, layer.Name ?? "", layer.Type, LayerPlan.Describe(model, i), layer.OutputShape.ToString(), model.ImagesPerChunk(i, batch), times[i] * 1000, medians[i] * 1000,
                profile.CallerMedian[i] * 1000, profile.HelpersMedian[i] * 1000, gflops, total > 0 ? medians[i] / total : 0));
        }

        return rows.ToArray();
    }

    private static float[] RandomInput(Model model, int batch)
    {
        var random = new Random(InputSeed);
        var input = new float[batch * model.InputShape.Size];
        for (int i = 0; i < input.Length; i++) input[i] = (float)(random.NextDouble() * 2 - 1);
        return input;
    }

    internal static BenchResult Measure(Model model, int batch, double seconds, double warmup)
    {
        float[] input = RandomInput(model, batch);
        var output = new float[batch * model.OutputShape.Size];

        long warmupStart = Stopwatch.GetTimestamp();
        do model.Forward(input, output, batch);
        while (Stopwatch.GetElapsedTime(warmupStart).TotalSeconds < warmup);
        double warmed = Stopwatch.GetElapsedTime(warmupStart).TotalSeconds;

        var latencies = new List<double>(1024);
        long start = Stopwatch.GetTimestamp(), end = start + (long)(seconds * Stopwatch.Frequency), last = start;
        do
        {
            model.Forward(input, output, batch);
            long now = Stopwatch.GetTimestamp();
            latencies.Add((now - last) * 1000.0 / Stopwatch.Frequency);
            last = now;
        }
        while (last < end);

        double[] sorted = latencies.ToArray();
        Array.Sort(sorted);
        return new BenchResult(batch, sorted.Length, (last - start) / (double)Stopwatch.Frequency, warmed, sorted);
    }

    /// <summary>Linear interpolation between closest ranks (NumPy's default).</summary>
    internal static double Percentile(double[] sorted, double q)
    {
        if (sorted.Length == 0) return double.NaN;
        double rank = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(rank), hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }

    private static double GFlops(Model model, BenchResult r) => model.FlopsPerImage * r.ImagesPerSecond / 1e9;

    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);

    private static void WriteText(TextWriter stdout, Model model, string source, BenchResult r, LayerTime[]? layers)
    {
        string description = string.IsNullOrEmpty(model.Spec.Description) ? "" : $" ({model.Spec.Description})";
        stdout.WriteLine($"cpu          {HostCpu.Name}, {Environment.ProcessorCount} CPUs");
        stdout.WriteLine($"model        {model.Spec.Name}{description}");
        stdout.WriteLine($"source       {source}");
        stdout.WriteLine($"batch        {r.Batch}");
        stdout.WriteLine($"threads      {model.Options.Threads}");
        stdout.WriteLine($"simd         {model.Options.Simd}");
        stdout.WriteLine($"plan         {LayerPlan.Summary(model)}");
        stdout.WriteLine($"work         {F(model.FlopsPerImage / 1e6, "F3")} MFLOPs per image");
        stdout.WriteLine($"runs         {r.Batches:N0} batches in {F(r.Seconds, "F2")} s, after {F(r.WarmupSeconds, "F2")} s of warm-up");
        stdout.WriteLine($"images/s     {F(r.ImagesPerSecond, "F1")}");
        stdout.WriteLine($"latency      p50 {F(r.P50, "F3")} ms, p99 {F(r.P99, "F3")} ms per batch");
        stdout.WriteLine($"GFLOP/s      {F(GFlops(model, r), "F2")}");
        if (r.Host.Length > 0) stdout.WriteLine($"host         {r.Host}");
        if (r.CoreRoundTripNs is { } trip)
            stdout.WriteLine($"cores        a cache line's round trip between two threads: {CoreToCore.Format(trip.Start)} before the run, {CoreToCore.Format(trip.End)} after (two threads share every layer's data)");
        if (layers is null) return;

        stdout.WriteLine();
        var table = new TextTable(("#", true), ("layer", false), ("type", false), ("detail", false), ("output", false), ("chunk", true), ("best", true), ("p50", true),
            ("caller", true), ("helpers", true), ("GFLOP/s", true), ("share", true));
        foreach (LayerTime l in layers)
            table.Add(l.Index.ToString(CultureInfo.InvariantCulture), l.Name.Length > 0 ? l.Name : "-", l.Type, l.Detail, l.Output, l.Chunk.ToString(CultureInfo.InvariantCulture),
                F(l.Ms, "F3"), F(l.MedianMs, "F3"), F(l.CallerMs, "F3"), F(l.HelpersMs, "F3"), F(l.GFlops, "F1"), F(l.Share * 100, "F1") + "%");
        table.Write(stdout);
    }

    private static void WriteJson(TextWriter stdout, Model model, string source, BenchResult r, LayerTime[]? layers)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("model", model.Spec.Name);
            json.WriteString("source", source);
            json.WriteNumber("batch", r.Batch);
            json.WriteNumber("threads", model.Options.Threads);
            json.WriteString("simd", model.Options.Simd.ToString());
            json.WriteString("plan", model.Options.Plan == PlanMode.Measure ? "measure" : "fixed");
            json.WriteString("cpu", HostCpu.Name);
            json.WriteNumber("cpus", Environment.ProcessorCount);
            json.WriteNumber("flops_per_image", model.FlopsPerImage);
            json.WriteNumber("warmup_seconds", r.WarmupSeconds);
            json.WriteNumber("seconds", r.Seconds);
            json.WriteNumber("batches", r.Batches);
            json.WriteNumber("images_per_sec", r.ImagesPerSecond);
            json.WriteNumber("latency_ms_p50", r.P50);
            json.WriteNumber("latency_ms_p99", r.P99);
            json.WriteNumber("latency_ms_mean", r.Mean);
            json.WriteNumber("gflops", GFlops(model, r));
            if (r.Host.Length > 0) json.WriteString("host", r.Host);
            if (r.CoreRoundTripNs is { } trip)
            {
                // null: the probe's other thread never got a CPU (JSON has no infinity)
                foreach ((string key, double ns) in new[] { ("core_round_trip_ns_before", trip.Start), ("core_round_trip_ns_after", trip.End) })
                    if (double.IsFinite(ns)) json.WriteNumber(key, ns);
                    else json.WriteNull(key);
            }

            if (layers is not null)
            {
                json.WriteStartArray("layers");
                foreach (LayerTime l in layers)
                {
                    json.WriteStartObject();
                    json.WriteNumber("index", l.Index);
                    json.WriteString("name", l.Name);
                    json.WriteString("type", l.Type);
                    json.WriteString("detail", l.Detail);
                    json.WriteString("output", l.Output);
                    json.WriteNumber("chunk_images", l.Chunk);
                    json.WriteNumber("ms", l.Ms);
                    json.WriteNumber("p50_ms", l.MedianMs);
                    json.WriteNumber("caller_p50_ms", l.CallerMs);
                    json.WriteNumber("helpers_p50_ms", l.HelpersMs);
                    json.WriteNumber("gflops", l.GFlops);
                    json.WriteNumber("share", l.Share);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        stdout.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }
}
