using System.Diagnostics;
using System.Globalization;

namespace CnnService.Benchmarks;

/// <summary>
/// The Stopwatch helpers of the modes that compare the engine with ONNX Runtime (<c>onnx</c>, <c>seeds</c>, <c>layers</c>):
/// call rates, single-call times, medians, and the warm-up before them (<see cref="WarmUp"/>).
/// </summary>
internal static class Timing
{
    /// <summary>
    /// Idles before a runtime's round, so that the other runtime's idle threads have stopped spinning: ONNX Runtime's
    /// intra-op workers spin for tens of milliseconds after a Run, and on a 2-core machine they take the core the
    /// engine's helper needs. Measured on the AMD host, squeezenet1_1 at batch 1 on two threads, 50 engine passes after
    /// each 50 of ONNX Runtime's: the engine's first pass 4.9-5.9 ms, its fifth 2.4-4.7, its twentieth on 2.0-3.3;
    /// 100 ms of idling first, or ONNX Runtime's spinning off, left only the first pass slower (2.9 ms, cold caches).
    /// Both runtimes run in one process here, unlike in any service; the pause keeps each one's round its own.
    /// </summary>
    public static void Settle() => Thread.Sleep(SettleMilliseconds);

    /// <summary>
    /// Calls <paramref name="call"/> for at least <paramref name="seconds"/> (and once), before anything of it is timed. The
    /// engine's code is compiled in tiers as it runs: after one pass, which was all the warm-up here before, its next 60 or so
    /// ran on code not yet optimised (squeezenet1_1, one thread, AMD EPYC Zen 3: 17-21 ms a pass for the first 0.5 s, 9.3 from
    /// 0.7 s on), and the per-layer timing, a path of its own, was 20-40 % slow over its first 60 passes (11.4-14.0 ms against
    /// 9.5). ONNX Runtime is native code and gets the same warm-up, for its caches.
    /// </summary>
    public static void WarmUp(Action call, double seconds = DefaultWarmUpSeconds)
    {
        long start = Stopwatch.GetTimestamp();
        do call();
        while (Stopwatch.GetElapsedTime(start).TotalSeconds < seconds);
    }

    public const double DefaultWarmUpSeconds = 1.5;

    public const int SettleMilliseconds = 250;

    /// <summary>Calls per second of <paramref name="call"/>, repeated for at least <paramref name="seconds"/>, and the
    /// median call (<paramref name="median"/>, seconds: the latency half the calls beat, which a stall of the host
    /// moves less than the mean); <paramref name="best"/> keeps the shortest single call seen, in seconds.</summary>
    public static double Rate(Action call, double seconds, ref double best, out double median)
    {
        var times = new List<double>();
        CallTimes(call, seconds, times, minCalls: 1);
        double total = 0;
        foreach (double t in times)
        {
            total += t;
            best = Math.Min(best, t);
        }

        median = Median(times);
        return times.Count / total;
    }

    /// <summary>Adds the time of each single call to <paramref name="times"/> (seconds), calling for at least
    /// <paramref name="seconds"/> and at least <paramref name="minCalls"/> times.</summary>
    public static void CallTimes(Action call, double seconds, List<double> times, int minCalls = 3)
    {
        long start = Stopwatch.GetTimestamp(), last = start;
        int calls = 0;
        double elapsed;
        do
        {
            call();
            calls++;
            long now = Stopwatch.GetTimestamp();
            times.Add((now - last) / (double)Stopwatch.Frequency);
            last = now;
            elapsed = (now - start) / (double)Stopwatch.Frequency;
        }
        while (elapsed < seconds || calls < minCalls);
    }

    /// <summary>The middle value (the upper one of an even count); sorts <paramref name="values"/>.</summary>
    public static double Median(List<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("no values", nameof(values));
        values.Sort();
        return values[values.Count / 2];
    }

    public static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
