namespace CnnService.Engine.Runtime;

/// <summary>How finely to split a layer call across threads.</summary>
internal static class Parallelism
{
    /// <summary>
    /// Below about half a million FLOPs (a few microseconds of one core) waking a helper thread
    /// costs more than it saves, so small calls, batch-1 ones especially, stay on one thread.
    /// </summary>
    public const long MinWorkPerChunk = 1L << 19;

    /// <summary>
    /// Up to sixteen chunks per thread, so a helper that starts late (the pool is busy, the core
    /// is shared) still finds work left and the caller is not left waiting on one long chunk.
    /// </summary>
    private const int ChunksPerThread = 4;

    /// <summary>Chunks for <paramref name="work"/> units of cost split over <paramref name="items"/> indivisible items.</summary>
    public static int Chunks(long work, int items, int threads)
    {
        if (threads <= 1) return 1;
        long byWork = Math.Max(1, work / MinWorkPerChunk);
        return (int)Math.Max(1, Math.Min(Math.Min((long)threads * ChunksPerThread, items), byWork));
    }

    /// <summary>The items [start, end) of chunk <paramref name="chunk"/>: near-equal contiguous ranges.</summary>
    public static (int Start, int End) Range(int items, int chunks, int chunk) =>
        ((int)((long)items * chunk / chunks), (int)((long)items * (chunk + 1) / chunks));
}
