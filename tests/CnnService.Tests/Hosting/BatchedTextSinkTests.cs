using System.Globalization;
using System.Text;
using System.Text.Json;
using CnnService.Hosting;
using Serilog;
using Serilog.Formatting.Compact;
using Serilog.Formatting.Display;

namespace CnnService.Tests.Hosting;

/// <summary>Redirected log output: requests only queue their lines; a background loop writes them in order, in batches.</summary>
public sealed class BatchedTextSinkTests
{
    private static readonly TimeSpan Never = TimeSpan.FromHours(1);

    /// <summary>A writer that records what was flushed, so a test can wait for a line to have been written out.</summary>
    private sealed class FlushedText : StringWriter
    {
        private readonly StringBuilder _flushed = new();

        public event Action? Flushed;

        public string Text
        {
            get { lock (_flushed) return _flushed.ToString(); }
        }

        public override void Flush()
        {
            lock (_flushed)
            {
                _flushed.Append(GetStringBuilder());
                GetStringBuilder().Clear();
            }

            Flushed?.Invoke();
        }

        /// <summary>Completes once the flushed text contains <paramref name="expected"/>.</summary>
        public Task UntilAsync(string expected)
        {
            var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Flushed += () => { if (Text.Contains(expected, StringComparison.Ordinal)) written.TrySetResult(); };
            if (Text.Contains(expected, StringComparison.Ordinal)) written.TrySetResult();
            return written.Task.WaitAsync(TimeSpan.FromMinutes(1));
        }
    }

    private sealed class BrokenWriter : StringWriter
    {
        private int _flushes;

        public int Flushes => Volatile.Read(ref _flushes);

        public override void Flush()
        {
            Interlocked.Increment(ref _flushes);
            throw new IOException("the pipe is closed");
        }
    }

    private static BatchedTextSink Sink(TextWriter output, int capacity, TimeSpan interval) =>
        new(new MessageTemplateTextFormatter("{Message:lj}{NewLine}", CultureInfo.InvariantCulture), output, capacity, interval);

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task Lines_are_written_by_the_loop_in_the_order_they_were_logged()
    {
        var output = new FlushedText();
        using BatchedTextSink sink = Sink(output, 100, TimeSpan.FromMilliseconds(10));
        using var logger = new LoggerConfiguration().WriteTo.Sink(sink).CreateLogger();

        for (int i = 0; i < 5; i++) logger.Information("line {Number}", i);
        await output.UntilAsync("line 4");

        Assert.Equal(["line 0", "line 1", "line 2", "line 3", "line 4"], Lines(output.Text));
    }

    [Fact]
    public void Logging_writes_nothing_until_the_loop_drains()
    {
        var output = new FlushedText();
        using BatchedTextSink sink = Sink(output, 100, Never);
        using var logger = new LoggerConfiguration().WriteTo.Sink(sink).CreateLogger();

        logger.Information("queued");

        Assert.Equal("", output.Text + output.GetStringBuilder());
    }

    [Fact]
    public void Disposing_writes_what_is_still_queued()
    {
        var output = new FlushedText();
        BatchedTextSink sink = Sink(output, 100, Never);
        var logger = new LoggerConfiguration().WriteTo.Sink(sink).CreateLogger();

        logger.Information("first");
        logger.Information("second");
        sink.Dispose();

        Assert.Equal(["first", "second"], Lines(output.Text));
    }

    [Fact]
    public void Past_the_capacity_lines_are_dropped_and_the_next_flush_says_how_many()
    {
        var output = new FlushedText();
        BatchedTextSink sink = Sink(output, 2, Never);
        var logger = new LoggerConfiguration().WriteTo.Sink(sink).CreateLogger();

        for (int i = 0; i < 5; i++) logger.Information("line {Number}", i);
        sink.Dispose();

        string[] lines = Lines(output.Text);
        Assert.Equal(["line 0", "line 1"], lines[..2]);
        Assert.Contains("3 log lines dropped", lines[2]);
        Assert.Equal(3, lines.Length);
    }

    [Fact]
    public void The_dropped_count_goes_through_the_formatter_so_a_json_log_stays_json()
    {
        var output = new FlushedText();
        var sink = new BatchedTextSink(new RenderedCompactJsonFormatter(), output, 1, Never);
        var logger = new LoggerConfiguration().WriteTo.Sink(sink).CreateLogger();

        for (int i = 0; i < 3; i++) logger.Information("line {Number}", i);
        sink.Dispose();

        string[] lines = Lines(output.Text);
        Assert.Equal(2, lines.Length);
        using JsonDocument dropped = JsonDocument.Parse(lines[1]);
        Assert.Equal("Warning", dropped.RootElement.GetProperty("@l").GetString());
        Assert.Equal(2, dropped.RootElement.GetProperty("Dropped").GetInt64());
    }

    [Fact]
    public async Task A_broken_output_neither_reaches_the_caller_nor_stops_the_loop()
    {
        var output = new BrokenWriter();
        using BatchedTextSink sink = Sink(output, 100, TimeSpan.FromMilliseconds(10));
        using var logger = new LoggerConfiguration().WriteTo.Sink(sink).CreateLogger();

        using var hang = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        logger.Information("lost");
        while (output.Flushes < 1) await Task.Delay(10, hang.Token);
        logger.Information("also lost");
        while (output.Flushes < 2) await Task.Delay(10, hang.Token);  // the loop went on after the failure
    }
}
