using CnnService.Engine.Runtime;

namespace CnnService.Benchmarks;

/// <summary>The comparisons' report of <see cref="CoreToCore"/>: two-thread figures follow it, so a run says what it was at both ends.</summary>
internal static class CoreRoundTrip
{
    public static double? Measure() => CoreToCore.RoundTripNanoseconds();

    /// <summary>"A cache line's round trip between two threads: 55 ns before the runs, 330 ns after.", or nothing with one CPU.</summary>
    public static void Report(double? before)
    {
        if (before is not { } first || Measure() is not { } last) return;
        Console.WriteLine($"A cache line's round trip between two threads: {CoreToCore.Format(first)} before the runs, {CoreToCore.Format(last)} after (the longer, the farther apart the two CPUs, and the slower every layer two threads share).");
    }
}
