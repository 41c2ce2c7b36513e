namespace CnnService.Predict;

/// <summary>Hard limits on what one predict request may ask for (configuration section <c>Limits</c>).</summary>
public sealed class PredictLimits
{
    public const string Section = "Limits";

    /// <summary>Largest request body, for every endpoint (Kestrel's limit and the predict reader's own).</summary>
    public long MaxBodyBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>
    /// A body refused with 413 before it was read to its end is read and discarded up to this many bytes in all,
    /// so a client that sends everything before reading gets the answer instead of a reset connection.
    /// </summary>
    public long MaxDiscardBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>At most this long is spent discarding a refused body.</summary>
    public double DiscardSeconds { get; set; } = 30;

    public int MaxImagesPerRequest { get; set; } = 64;

    /// <summary>Largest image, width times height, checked from its header before any pixel is decoded.</summary>
    public long MaxImagePixels { get; set; } = 4096L * 4096;

    /// <summary>Smallest image side: a 1 x 1 upload is no picture of anything.</summary>
    public int MinImageSide { get; set; } = 8;
}
