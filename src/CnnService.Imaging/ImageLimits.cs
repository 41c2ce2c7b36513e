namespace CnnService.Imaging;

/// <summary>
/// How large an image the decoder accepts. Checked against the size the file's header declares,
/// before any pixel is decoded, so a small hostile file (a GIF whose logical screen is
/// 65535 x 65535, a PNG header claiming 100000 x 100000) costs nothing but the header read.
/// </summary>
public sealed record ImageLimits
{
    /// <summary>4096 x 4096: a 16-megapixel photo; decoding it takes 64 MB of RGBA.</summary>
    public const long DefaultMaxPixels = 4096L * 4096;

    public static ImageLimits Default { get; } = new();

    /// <summary>The most pixels (width x height of the encoded image) a file may declare.</summary>
    public long MaxPixels
    {
        get;
        init => field = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(MaxPixels), value, "The pixel limit must be positive.");
    } = DefaultMaxPixels;

    /// <summary>
    /// The fewest pixels either side may have. 1 accepts anything; the service sets more, because a
    /// 1 x 1 upload stretched to a network's input is no picture of anything and deserves a clear 400.
    /// </summary>
    public int MinSide
    {
        get;
        init => field = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(MinSide), value, "The smallest side must be positive.");
    } = 1;
}
