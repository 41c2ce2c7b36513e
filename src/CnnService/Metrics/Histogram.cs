namespace CnnService.Metrics;

/// <summary>A Prometheus histogram: cumulative bucket counts, a sum and a count. Thread-safe.</summary>
public sealed class Histogram(double[] bounds)
{
    private readonly long[] _counts = new long[bounds.Length + 1];
    private readonly Lock _lock = new();
    private double _sum;
    private long _count;

    public IReadOnlyList<double> Bounds { get; } = bounds;

    public void Observe(double value)
    {
        int bucket = 0;
        while (bucket < bounds.Length && value > bounds[bucket]) bucket++;
        lock (_lock)
        {
            _counts[bucket]++;
            _sum += value;
            _count++;
        }
    }

    /// <summary>Cumulative counts per bound (the last one is +Inf), the sum and the count, read together.</summary>
    public (long[] Cumulative, double Sum, long Count) Read()
    {
        lock (_lock)
        {
            var cumulative = new long[_counts.Length];
            long running = 0;
            for (int i = 0; i < _counts.Length; i++) cumulative[i] = running += _counts[i];
            return (cumulative, _sum, _count);
        }
    }
}
