namespace CnnService.Engine.Runtime;

/// <summary>How finely to split a layer call across threads.</summary>
internal static class Parallelism
{
    /// <summary>
    /// Below about sixteen thousand FLOPs (a tenth of a microsecond of one core) a call stays on one thread. A helper that
    /// is spinning takes a chunk within a fraction of a microsecond, and one that is not costs nothing but the post: the
    /// caller claims what is left. Half a million, as it was, kept batch-1 passes of small networks and squeeze-and-excitation
    /// blocks on one core: against it, at batch 1 on two threads (AMD EPYC Zen 5, paired in one process), LeNet-5 26-28 %
    /// faster, EfficientNet-B0 7-8 %, TinyVGG 5 %, ResNet-18 1 %; SqueezeNet and MobileNet V2 unchanged, batch 8 0.5-1 %.
    /// </summary>
    public const long MinWorkPerChunk = 1L << 14;

    /// <summary>
    /// One chunk per thread, in position order. The caller claims the first and a prompt helper
    /// the second, so consecutive layers (and a padding copy split by rows) hand each core the
    /// same band of the maps: it reads what it wrote itself, not lines held dirty by the other
    /// core, which on this machine costs a padded 3x3 pair a quarter of its two-thread speed.
    /// A helper that starts late costs only speed: the caller claims what is left.
    /// </summary>
    public static int Chunks(long work, int items, int threads)
    {
        if (threads <= 1) return 1;
        long byWork = Math.Max(1, work / MinWorkPerChunk);
        return (int)Math.Max(1, Math.Min(Math.Min(threads, items), byWork));
    }

    /// <summary>The items [start, end) of chunk <paramref name="chunk"/>: near-equal contiguous ranges.</summary>
    public static (int Start, int End) Range(int items, int chunks, int chunk) =>
        ((int)((long)items * chunk / chunks), (int)((long)items * (chunk + 1) / chunks));
}
