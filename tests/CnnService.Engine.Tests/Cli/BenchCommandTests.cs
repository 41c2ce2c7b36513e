using System.Globalization;
using System.Text.Json;
using CnnService.Cli;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Onnx;

namespace CnnService.Engine.Tests.Cli;

public class BenchCommandTests
{
    [Fact]
    public void Bench_json_prints_one_parseable_object_with_the_throughput_keys()
    {
        CliResult r = Cnn.Run("bench", "--arch", "keras-mnist", "--batch", "2", "--threads", "1", "--seconds", "0.2", "--warmup", "0", "--json");

        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        using var doc = JsonDocument.Parse(Assert.Single(r.StdoutLines));
        JsonElement root = doc.RootElement;
        foreach (string key in new[] { "images_per_sec", "latency_ms_p50", "latency_ms_p99", "gflops" })
            Assert.Equal(JsonValueKind.Number, root.GetProperty(key).ValueKind);
        Assert.Equal("mnist", root.GetProperty("model").GetString());
        Assert.Equal(2, root.GetProperty("batch").GetInt32());
        Assert.Equal(1, root.GetProperty("threads").GetInt32());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("simd").GetString()));
    }

    [Fact]
    public void Bench_text_reports_images_per_second_latency_and_gflops_for_a_model_directory()
    {
        using var temp = new TempModel();
        CliResult r = Cnn.Run("bench", "--model", temp.ModelDir, "--seconds", "0.1", "--warmup", "0", "--simd", "scalar");

        Assert.Equal(0, r.ExitCode);
        foreach (string prefix in new[] { "model        mnist", "batch        1", "simd         Scalar", "images/s", "latency      p50", "GFLOP/s" })
            Assert.Contains(r.StdoutLines, l => l.StartsWith(prefix, StringComparison.Ordinal));
    }

    [Fact]
    public void Bench_text_header_names_the_cpu()
    {
        CliResult r = Cnn.Run("bench", "--arch", "keras-mnist", "--threads", "1", "--seconds", "0.05", "--warmup", "0");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains($"cpu          {HostCpu.Name}, {Environment.ProcessorCount} CPUs", r.StdoutLines);
    }

    [Fact]
    public void Bench_text_reports_the_machines_stolen_and_idle_time_over_the_run_on_linux()
    {
        CliResult r = Cnn.Run("bench", "--arch", "keras-mnist", "--threads", "1", "--seconds", "0.05", "--warmup", "0");

        Assert.Equal(0, r.ExitCode);
        Assert.Equal(File.Exists("/proc/stat"), r.StdoutLines.Any(l => l.StartsWith("host         steal ", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("1", false)]
    [InlineData("2", true)]
    public void Bench_text_reports_a_cache_lines_round_trip_between_cores_when_two_threads_share_the_layers(string threads, bool twoThreads)
    {
        CliResult r = Cnn.Run("bench", "--arch", "keras-mnist", "--threads", threads, "--seconds", "0.05", "--warmup", "0");

        Assert.Equal(0, r.ExitCode);
        string? line = r.StdoutLines.FirstOrDefault(l => l.StartsWith("cores        a cache line's round trip between two threads: ", StringComparison.Ordinal));
        Assert.Equal(twoThreads && Environment.ProcessorCount > 1, line is not null);
        if (line is not null) Assert.Matches(@": ([0-9]+ ns|no answer) before the run, ([0-9]+ ns|no answer) after", line);
    }

    [Fact]
    public void Bench_json_gives_the_round_trip_before_and_after_with_two_threads()
    {
        CliResult r = Cnn.Run("bench", "--arch", "keras-mnist", "--threads", "2", "--seconds", "0.05", "--warmup", "0", "--json");

        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(Assert.Single(r.StdoutLines));
        foreach (string key in new[] { "core_round_trip_ns_before", "core_round_trip_ns_after" })
        {
            Assert.Equal(Environment.ProcessorCount > 1, doc.RootElement.TryGetProperty(key, out JsonElement ns));
            // null when the probe's other thread never got a CPU: JSON has no infinity
            if (ns.ValueKind != JsonValueKind.Undefined && ns.ValueKind != JsonValueKind.Null) Assert.True(ns.GetDouble() > 0, $"{key} {ns}");
        }
    }

    [Fact]
    public void Bench_per_layer_prints_one_row_per_layer_that_runs_with_its_times_thread_shares_rate_and_share()
    {
        CliResult r = Cnn.Run("bench", "--arch", "keras-mnist", "--threads", "1", "--seconds", "0.1", "--warmup", "0", "--per-layer");

        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        Model model = ModelSource.FromArchitecture("keras-mnist", EngineOptions.Default);
        int[] running = Enumerable.Range(0, model.Layers.Count).Where(model.RunsLayer).ToArray();
        Assert.True(running.Length < model.Layers.Count, "keras-mnist fuses its ReLUs and flattens in place: some layers run nothing");

        string[] lines = r.StdoutLines;
        int header = Array.FindIndex(lines, l => l.StartsWith("#  layer", StringComparison.Ordinal));
        Assert.True(header > 0, "the table follows the summary");
        Assert.Equal(["#", "layer", "type", "detail", "output", "chunk", "best", "p50", "caller", "helpers", "GFLOP/s", "share"], Words(lines[header]));
        Assert.Matches("^[- ]+$", lines[header + 1]);
        string[] rows = lines[(header + 2)..];
        Assert.Equal(running.Length, rows.Length);
        for (int i = 0; i < rows.Length; i++)
        {
            var layer = model.Layers[running[i]];
            string[] cells = Words(rows[i]);
            Assert.Equal(running[i].ToString(CultureInfo.InvariantCulture), cells[0]);
            Assert.Equal(layer.Name ?? "-", cells[1]);
            Assert.Equal(layer.Type, cells[2]);
            Assert.Equal(layer.OutputShape.ToString(), cells[^8]);
            Assert.Equal("1", cells[^7]);
            Assert.Matches(@"^\d+\.\d{3}$", cells[^6]);
            Assert.Matches(@"^\d+\.\d{3}$", cells[^5]);
            Assert.True(double.Parse(cells[^6], CultureInfo.InvariantCulture) <= double.Parse(cells[^5], CultureInfo.InvariantCulture), "the best is at most the median");
            Assert.Matches(@"^\d+\.\d{3}$", cells[^4]);
            Assert.Equal("0.000", cells[^3]); // one thread: no helper ran any of it
            Assert.Matches(@"^\d+\.\d$", cells[^2]);
            Assert.Matches(@"^\d+\.\d%$", cells[^1]);
        }

        Assert.Contains(rows, row => row.Contains("conv2d", StringComparison.Ordinal) && row.Contains("3x3", StringComparison.Ordinal));
    }

    [Fact]
    public void Bench_per_layer_shows_the_images_each_layer_takes_at_a_time()
    {
        CliResult r = Cnn.Run("bench", "--arch", "keras-mnist", "--batch", "64", "--threads", "1", "--seconds", "0.1", "--warmup", "0", "--per-layer", "--json");

        Assert.Equal(0, r.ExitCode);
        Model model = ModelSource.FromArchitecture("keras-mnist", new EngineOptions { Threads = 1 });
        using var doc = JsonDocument.Parse(Assert.Single(r.StdoutLines));
        var chunks = doc.RootElement.GetProperty("layers").EnumerateArray()
            .ToDictionary(l => l.GetProperty("index").GetInt32(), l => l.GetProperty("chunk_images").GetInt32());
        Assert.All(chunks, c => Assert.Equal(model.ImagesPerChunk(c.Key, 64), c.Value));
        Assert.Equal(64, chunks[4]);   // fc1 reads its 2 MB of weights once per batch
    }

    [Fact]
    public void Bench_per_layer_json_lists_the_layers_with_shares_that_sum_to_one()
    {
        CliResult r = Cnn.Run("bench", "--arch", "lenet5", "--batch", "3", "--threads", "2", "--seconds", "0.1", "--warmup", "0", "--per-layer", "--json");

        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(Assert.Single(r.StdoutLines));
        JsonElement layers = doc.RootElement.GetProperty("layers");
        Assert.True(layers.GetArrayLength() > 0);
        double shares = 0;
        int previous = -1;
        foreach (JsonElement layer in layers.EnumerateArray())
        {
            int index = layer.GetProperty("index").GetInt32();
            Assert.True(index > previous, "rows are in plan order");
            previous = index;
            foreach (string key in new[] { "name", "type", "detail", "output" })
                Assert.Equal(JsonValueKind.String, layer.GetProperty(key).ValueKind);
            Assert.True(layer.GetProperty("ms").GetDouble() >= 0);
            Assert.True(layer.GetProperty("p50_ms").GetDouble() >= layer.GetProperty("ms").GetDouble(), "the median is at least the best");
            foreach (string share in new[] { "caller_p50_ms", "helpers_p50_ms" })
                Assert.InRange(layer.GetProperty(share).GetDouble(), 0, layer.GetProperty("p50_ms").GetDouble());
            Assert.True(layer.GetProperty("gflops").GetDouble() >= 0);
            shares += layer.GetProperty("share").GetDouble();
        }

        Assert.Equal(1, shares, 6);
        Assert.Equal(HostCpu.Name, doc.RootElement.GetProperty("cpu").GetString());
        Assert.Equal(Environment.ProcessorCount, doc.RootElement.GetProperty("cpus").GetInt32());
    }

    [Fact]
    public void Bench_takes_a_bare_onnx_file_named_for_the_file()
    {
        CliResult r = Cnn.Run("bench", "--model", OnnxFixtureTests.Fixture("torch_conv.onnx"), "--threads", "1", "--seconds", "0.05", "--warmup", "0", "--json");

        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(Assert.Single(r.StdoutLines));
        Assert.Equal("torch_conv", doc.RootElement.GetProperty("model").GetString());
    }

    private static string[] Words(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void Percentiles_interpolate_between_ranks()
    {
        double[] sorted = [1, 2, 3, 4, 5];
        Assert.Equal(3, BenchCommand.Percentile(sorted, 0.5));
        Assert.Equal(4.96, BenchCommand.Percentile(sorted, 0.99), 9);
        Assert.Equal(7, BenchCommand.Percentile([7], 0.99));
    }

    [Theory]
    [InlineData("--batch", "0", "cnn: option --batch must be an integer at least 1, got '0'")]
    [InlineData("--seconds", "0", "cnn: option --seconds must be a number greater than 0 and at most 86400, got '0'")]
    [InlineData("--threads", "two", "cnn: option --threads must be an integer from 1 to 1024, got 'two'")]
    [InlineData("--simd", "avx9", "cnn: option --simd must be one of best, scalar, vector256, vector512; got 'avx9'")]
    public void Bench_rejects_bad_values_as_usage_errors(string option, string value, string message)
    {
        CliResult r = Cnn.Run("bench", "--arch", "lenet5", option, value);

        Assert.Equal(2, r.ExitCode);
        Assert.Equal(message, r.Error);
    }

    [Fact]
    public void Bench_needs_a_model_or_an_architecture()
    {
        CliResult r = Cnn.Run("bench", "--json");

        Assert.Equal(2, r.ExitCode);
        Assert.Equal("cnn: 'cnn bench' needs --model or --arch (see 'cnn bench --help')", r.Error);
    }

    [Fact]
    public void Bench_with_measure_says_the_plan_was_measured()
    {
        CliResult text = Cnn.Run("bench", "--arch", "tinyvgg", "--threads", "1", "--seconds", "0.05", "--warmup", "0", "--measure");
        CliResult json = Cnn.Run("bench", "--arch", "tinyvgg", "--threads", "1", "--seconds", "0.05", "--warmup", "0", "--measure", "--json");

        Assert.Equal(0, text.ExitCode);
        Assert.Contains(text.StdoutLines, l => l.StartsWith("plan         measured: ", StringComparison.Ordinal));
        using var doc = JsonDocument.Parse(Assert.Single(json.StdoutLines));
        Assert.Equal("measure", doc.RootElement.GetProperty("plan").GetString());
    }

    [Fact]
    public void Bench_without_measure_says_the_plan_is_fixed()
    {
        CliResult r = Cnn.Run("bench", "--arch", "lenet5", "--threads", "1", "--seconds", "0.05", "--warmup", "0", "--json");

        using var doc = JsonDocument.Parse(Assert.Single(r.StdoutLines));
        Assert.Equal("fixed", doc.RootElement.GetProperty("plan").GetString());
    }
}
