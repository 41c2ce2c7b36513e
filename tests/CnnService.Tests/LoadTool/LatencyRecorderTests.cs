extern alias LoadTool;
using Grpc.Core;
using LoadTool::CnnService.LoadTool;

namespace CnnService.Tests.LoadTool;

/// <summary>cnn-load's recorder: nearest-rank percentiles over every kept latency, and every call counted by its status.</summary>
public sealed class LatencyRecorderTests
{
    private static long[] OneToHundred() => Enumerable.Range(1, 100).Select(i => (long)i).ToArray();

    [Fact]
    public void Percentile_is_the_smallest_value_with_that_share_of_values_at_or_below_it()
    {
        long[] sorted = OneToHundred();

        Assert.Equal(50, LatencyRecorder.Percentile(sorted, 50));
        Assert.Equal(90, LatencyRecorder.Percentile(sorted, 90));
        Assert.Equal(99, LatencyRecorder.Percentile(sorted, 99));
        Assert.Equal(100, LatencyRecorder.Percentile(sorted, 100));
    }

    [Fact]
    public void Percentile_of_one_value_is_that_value_and_of_none_is_zero()
    {
        Assert.Equal(7, LatencyRecorder.Percentile([7], 1));
        Assert.Equal(7, LatencyRecorder.Percentile([7], 99));
        Assert.Equal(0, LatencyRecorder.Percentile([], 50));
    }

    [Fact]
    public void Summary_sorts_latencies_recorded_in_any_order()
    {
        var recorder = new LatencyRecorder(100);
        foreach (long t in OneToHundred().Reverse()) recorder.Record(t * System.Diagnostics.Stopwatch.Frequency / 1000, StatusCode.OK);

        LoadSummary summary = recorder.Summarise(TimeSpan.FromSeconds(1));

        Assert.Equal(50, summary.P50Ms, 6);
        Assert.Equal(99, summary.P99Ms, 6);
        Assert.Equal(100, summary.MaxMs, 6);
        Assert.Equal(50.5, summary.MeanMs, 6);
    }

    [Fact]
    public void Summary_counts_every_call_under_its_status_and_failures_as_errors()
    {
        var recorder = new LatencyRecorder(10);
        recorder.Record(1, StatusCode.OK);
        recorder.Record(1, StatusCode.OK);
        recorder.Record(1, StatusCode.ResourceExhausted);
        recorder.Record(1, LatencyRecorder.OtherFailure);

        LoadSummary summary = recorder.Summarise(TimeSpan.FromSeconds(2));

        Assert.Equal(4, summary.Calls);
        Assert.Equal(2, summary.Ok);
        Assert.Equal(2, summary.Errors);
        Assert.Equal(1, summary.ByStatus[(int)StatusCode.ResourceExhausted]);
        Assert.Equal(1, summary.ByStatus[LatencyRecorder.OtherFailure]);
        Assert.Equal(2.0, summary.RequestsPerSecond);
    }

    [Fact]
    public void Calls_past_the_buffer_are_counted_without_their_latency()
    {
        var recorder = new LatencyRecorder(2);
        recorder.Record(10, StatusCode.OK);
        recorder.Record(20, StatusCode.OK);
        recorder.Record(1_000_000_000, StatusCode.OK);

        LoadSummary summary = recorder.Summarise(TimeSpan.FromSeconds(1));

        Assert.Equal(3, summary.Calls);
        Assert.Equal(3, summary.Ok);
        Assert.Equal(1, summary.UnrecordedLatencies);
        Assert.Equal(20 * 1000.0 / System.Diagnostics.Stopwatch.Frequency, summary.MaxMs, 9);
    }

    [Fact]
    public void Concurrent_callers_lose_no_call()
    {
        var recorder = new LatencyRecorder(8 * 10_000);

        Parallel.For(0, 8, _ =>
        {
            for (int i = 0; i < 10_000; i++) recorder.Record(i, StatusCode.OK);
        });

        LoadSummary summary = recorder.Summarise(TimeSpan.FromSeconds(1));
        Assert.Equal(80_000, summary.Calls);
        Assert.Equal(80_000, summary.Ok);
        Assert.Equal(0, summary.UnrecordedLatencies);
    }
}
