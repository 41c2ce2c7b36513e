using CnnService.Engine.Layers;

namespace CnnService.Engine.Runtime;

/// <summary>
/// How many images a run of consecutive layers takes at a time (depth-first), so that one layer's output is
/// still in the core's L2 when the next layer reads it. A batch run layer by layer streams every activation
/// through memory once it outgrows L2 (a 32-image share of 64x56x56 maps is 25 MB a layer); in chunks of c
/// images a layer's output is read back from L2. Decided from sizes only: the L2 this machine's OS reports,
/// and each layer's activations and weights per image. The per-image arithmetic does not change.
/// </summary>
internal static class BatchChunking
{
    /// <summary>Where the OS does not say: 1 MB, at or below the L2 of current x64 and Arm server cores.</summary>
    private const long DefaultL2Bytes = 1 << 20;

    /// <summary>The L2 (per core) of this machine, as Linux reports it for CPU 0; <see cref="DefaultL2Bytes"/> elsewhere.</summary>
    public static long L2Bytes { get; } = ReadL2() ?? DefaultL2Bytes;

    /// <summary>The activations of one chunk may fill half the L2: the rest holds the layer's weights, its scratch and the stack.</summary>
    public static long BudgetBytes => L2Bytes / 2;

    /// <summary>
    /// Whether a step may run chunk by chunk: its weights must be no larger than what one image reads and writes, or
    /// a quarter of the L2 (they stay there from one chunk to the next), or re-reading them for every chunk costs more
    /// than the cache saves (a dense layer's 5408x100 weights are 2 MB against 22 KB of activations per image). Dense
    /// products with larger weights never do (<see cref="Layer.WholeBatchOnly"/>): below <see cref="DenseProduct.GemvMaxBatch"/> images they take another kernel
    /// (GEMV), whose sums may round differently, and a chunk must compute exactly what the whole batch does.
    /// </summary>
    public static bool MayChunk(Layer layer, long ioFloatsPerImage) =>
        !layer.WholeBatchOnly && (layer.Parameters <= ioFloatsPerImage || layer.Parameters * sizeof(float) <= L2Bytes / 4);

    /// <summary>
    /// Images per chunk for a run of layers whose largest step reads and writes <paramref name="bytesPerImage"/> per image:
    /// as many as fit the budget, and at least one. When one image alone outgrows it, a chunk of one still keeps the
    /// run's working set to one image's maps, which the L2 holds in part and the L3 whole, where the batch's would
    /// stream through memory: at batch 8 on the Intel host (2 MB L2 a core), squeezenet1_1 went from 97-107 to
    /// 77-79 ms a batch, mobilenet_v2 from 123-132 to 75-90 ms and resnet18 from 268-272 to 239-247 ms; two 3x3
    /// 64->64 convolutions on 64x56x56 (1.7 MB an image) at batch 64 from 230-248 to 216-217 ms on 2 threads.
    /// </summary>
    public static int Images(long bytesPerImage) => (int)Math.Clamp(BudgetBytes / Math.Max(1, bytesPerImage), 1, int.MaxValue);

    private static long? ReadL2()
    {
        try
        {
            const string Root = "/sys/devices/system/cpu/cpu0/cache";
            if (!Directory.Exists(Root)) return null;
            foreach (string dir in Directory.EnumerateDirectories(Root, "index*"))
            {
                if (Read(dir, "level") != "2" || Read(dir, "type") is not ("Unified" or "Data")) continue;
                return ParseSize(Read(dir, "size"));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }

    private static string? Read(string dir, string file)
    {
        string path = Path.Combine(dir, file);
        return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }

    /// <summary>"2048K", "1M" or "524288" as sysfs writes cache sizes; null for anything else or a size outside 16 KB to 1 GB.</summary>
    internal static long? ParseSize(string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        long unit = char.ToUpperInvariant(text[^1]) switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, _ => 1 };
        string digits = unit == 1 ? text : text[..^1];
        if (!long.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long value) || value > 1L << 30) return null;
        long bytes = value * unit;
        return bytes is >= 16 << 10 and <= 1L << 30 ? bytes : null;
    }
}
