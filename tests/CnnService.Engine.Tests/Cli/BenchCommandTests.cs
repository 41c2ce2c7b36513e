using System.Text.Json;
using CnnService.Cli;

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
}
