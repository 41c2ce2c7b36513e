using System.Diagnostics;
using Grpc.Core;

namespace CnnService.LoadTool;

/// <summary>
/// Every call's latency (Stopwatch ticks) into one array allocated before the run, and the calls counted by their
/// gRPC status, from any number of callers at once: a call costs two interlocked adds, never an allocation. A run
/// longer than the array still counts every call; only the latencies past its end are not kept (and reported).
/// </summary>
internal sealed class LatencyRecorder
{
    /// <summary>StatusCode runs 0 (OK) to 16 (UNAUTHENTICATED); one more slot for failures that were no gRPC status.</summary>
    public const int OtherFailure = 17;

    private readonly long[] _ticks;
    private readonly long[] _byStatus = new long[OtherFailure + 1];
    private int _next;

    public LatencyRecorder(int capacity) => _ticks = new long[Math.Max(1, capacity)];

    /// <summary>Calls recorded, including those whose latency did not fit.</summary>
    public long Calls => Math.Max(0, Volatile.Read(ref _next));

    public void Record(long elapsedTicks, StatusCode status) => Record(elapsedTicks, (int)status);

    /// <summary>One finished call: its latency and its status (0..16 as StatusCode, or <see cref="OtherFailure"/>).</summary>
    public void Record(long elapsedTicks, int status)
    {
        int slot = Interlocked.Increment(ref _next) - 1;
        if ((uint)slot < (uint)_ticks.Length) _ticks[slot] = elapsedTicks;
        Interlocked.Increment(ref _byStatus[(uint)status <= OtherFailure ? status : OtherFailure]);
    }

    /// <summary>The summary of everything recorded, once the callers have stopped (it sorts the array in place).</summary>
    public LoadSummary Summarise(TimeSpan elapsed)
    {
        long calls = Calls;
        int kept = (int)Math.Min(calls, _ticks.Length);
        Span<long> sorted = _ticks.AsSpan(0, kept);
        sorted.Sort();
        long sum = 0;
        foreach (long t in sorted) sum += t;
        return new LoadSummary(
            Calls: calls,
            Elapsed: elapsed,
            MeanMs: kept == 0 ? 0 : Milliseconds(sum) / kept,
            P50Ms: Milliseconds(Percentile(sorted, 50)),
            P90Ms: Milliseconds(Percentile(sorted, 90)),
            P99Ms: Milliseconds(Percentile(sorted, 99)),
            MaxMs: kept == 0 ? 0 : Milliseconds(sorted[^1]),
            UnrecordedLatencies: calls - kept,
            ByStatus: (long[])_byStatus.Clone());
    }

    /// <summary>The nearest-rank percentile: the smallest value with at least p% of the values at or below it.</summary>
    public static long Percentile(ReadOnlySpan<long> sorted, double p)
    {
        if (sorted.IsEmpty) return 0;
        int rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank, 1, sorted.Length) - 1];
    }

    private static double Milliseconds(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}
