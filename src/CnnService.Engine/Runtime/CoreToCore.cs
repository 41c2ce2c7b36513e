using System.Diagnostics;
using System.Runtime.InteropServices;

namespace CnnService.Engine.Runtime;

/// <summary>
/// How long a cache line takes to go from one core to another and back, for benchmark reports. Every layer that two
/// threads share reads what the other thread wrote, so two-thread figures follow this number. On a shared VM it is the
/// host's choice, and it changes while a process runs: a 2-vCPU AMD EPYC VM moved between about 55 ns (two cores on one
/// L3) and about 330 ns every few seconds, and batch-1 passes of regnet_x_400mf on two threads took 5.5 or 11 ms with
/// it, where one thread took 9 ms throughout.
/// </summary>
public static unsafe class CoreToCore
{
    /// <summary>
    /// The median of <paramref name="samples"/> samples of <paramref name="sampleTime"/>, in nanoseconds per round trip:
    /// this thread and a second one take turns incrementing one counter on a cache line of its own. Null with one CPU.
    /// </summary>
    public static double? RoundTripNanoseconds(int samples = 5, TimeSpan? sampleTime = null)
    {
        if (Environment.ProcessorCount < 2) return null;
        long ticksPerSample = (long)((sampleTime ?? TimeSpan.FromMilliseconds(10)).TotalSeconds * Stopwatch.Frequency);
        long* line = (long*)NativeMemory.AlignedAlloc(128, 64); // the counter and the stop flag on lines of their own
        try
        {
            line[0] = 0;
            line[8] = 0;
            var other = new Thread(() => Answer(line)) { IsBackground = true, Name = "cnn core probe" };
            other.Start();
            var perSample = new double[samples];
            for (int s = 0; s < samples; s++) perSample[s] = Sample(line, ticksPerSample);
            Volatile.Write(ref line[8], 1);
            other.Join();
            Array.Sort(perSample);
            return perSample[samples / 2];
        }
        finally
        {
            NativeMemory.AlignedFree(line);
        }
    }

    /// <summary>A round trip for a report: "55 ns", or "no answer" when the probe's other thread never got a CPU.</summary>
    public static string Format(double ns) => double.IsFinite(ns) ? ns.ToString("F0", System.Globalization.CultureInfo.InvariantCulture) + " ns" : "no answer";

    /// <summary>Round trips for about <paramref name="ticks"/>: odd values are this thread's turn to have written, even the other's.</summary>
    private static double Sample(long* line, long ticks)
    {
        long start = Stopwatch.GetTimestamp(), deadline = start + ticks, trips = 0;
        long value = Volatile.Read(ref line[0]);
        while (true)
        {
            // Waits for the other thread's answer (an earlier sample that gave up may still be owed one); the clock is read
            // only now and then, and a wait ends soon after the deadline (the other thread may share this CPU for a while).
            for (int spins = 1; (value & 1) == 1; spins++)
            {
                value = Volatile.Read(ref line[0]);
                if ((spins & 1023) == 0 && Stopwatch.GetTimestamp() > deadline + ticks) return double.PositiveInfinity;
            }

            Volatile.Write(ref line[0], ++value);
            for (int spins = 1; Volatile.Read(ref line[0]) == value; spins++)
                if ((spins & 1023) == 0 && Stopwatch.GetTimestamp() > deadline + ticks) return double.PositiveInfinity;
            value++;
            trips++;
            if ((trips & 255) == 0 && Stopwatch.GetTimestamp() >= deadline) break;
        }

        return (Stopwatch.GetTimestamp() - start) * 1e9 / Stopwatch.Frequency / trips;
    }

    private static void Answer(long* line)
    {
        while (Volatile.Read(ref line[8]) == 0)
        {
            long value = Volatile.Read(ref line[0]);
            if ((value & 1) == 1) Volatile.Write(ref line[0], value + 1);
        }
    }
}
