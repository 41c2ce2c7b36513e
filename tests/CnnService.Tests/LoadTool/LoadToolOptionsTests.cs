extern alias LoadTool;
using LoadTool::CnnService.LoadTool;

namespace CnnService.Tests.LoadTool;

/// <summary>cnn-load grpc's command line: ghz's duration syntax, its defaults, and a clear refusal of what cannot run.</summary>
public sealed class LoadToolOptionsTests
{
    private static GrpcLoadOptions Parse(params string[] extra) =>
        GrpcLoadOptions.Parse(["--target", "127.0.0.1:8081", "--raw", "tensor.raw", .. extra]);

    [Theory]
    [InlineData("500ms", 0.5)]
    [InlineData("15s", 15)]
    [InlineData("2m", 120)]
    [InlineData("1.5s", 1.5)]
    [InlineData("10", 10)]
    public void Durations_read_as_ghz_and_hey_write_them(string text, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), CommandLine.Duration("--duration", text));

    [Theory]
    [InlineData("fast")]
    [InlineData("s")]
    [InlineData("-3s")]
    public void A_duration_that_is_no_number_is_a_usage_error_naming_the_option(string text)
    {
        UsageException e = Assert.Throws<UsageException>(() => CommandLine.Duration("--warmup", text));
        Assert.Contains("--warmup", e.Message);
    }

    [Fact]
    public void Callers_default_to_one_per_connection()
    {
        GrpcLoadOptions options = Parse("--connections", "8", "--duration", "5s");

        Assert.Equal(8, options.Connections);
        Assert.Equal(8, options.Concurrency);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Duration);
        Assert.Null(options.Requests);
    }

    [Fact]
    public void Defaults_send_mnists_uint8_digit()
    {
        GrpcLoadOptions options = Parse("--requests", "100");

        Assert.Equal("mnist", options.Model);
        Assert.Equal("UINT8", options.Datatype);
        Assert.Equal([1L, 1, 28, 28], options.Shape);
        Assert.Equal(100, options.Requests);
    }

    [Fact]
    public void Duration_and_request_count_are_one_or_the_other()
    {
        Assert.Throws<UsageException>(() => Parse("--duration", "5s", "--requests", "10"));
        Assert.Throws<UsageException>(() => Parse());
    }

    [Fact]
    public void A_target_with_a_scheme_is_refused_because_h2c_is_implied()
    {
        UsageException e = Assert.Throws<UsageException>(() =>
            GrpcLoadOptions.Parse(["--target", "http://127.0.0.1:8081", "--raw", "t.raw", "--requests", "1"]));
        Assert.Contains("without a scheme", e.Message);
    }

    [Theory]
    [InlineData("--shape", "1,x,28")]
    [InlineData("--shape", "1,0,28,28")]
    [InlineData("--connections", "0")]
    [InlineData("--bogus", "1")]
    public void Malformed_options_are_usage_errors(string name, string value) =>
        Assert.Throws<UsageException>(() => Parse("--requests", "1", name, value));
}
