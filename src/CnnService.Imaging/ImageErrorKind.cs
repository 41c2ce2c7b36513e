namespace CnnService.Imaging;

/// <summary>
/// Why an image could not be decoded. Kept to a few cases because callers act on them: the service
/// answers 400 for <see cref="Empty"/>, <see cref="TooSmall"/> and <see cref="Corrupt"/>, 415 for
/// <see cref="Unsupported"/> and 413 for <see cref="TooLarge"/>.
/// </summary>
public enum ImageErrorKind
{
    /// <summary>No bytes at all.</summary>
    Empty,

    /// <summary>Not a PNG, JPEG, GIF, BMP or WebP file (or a model that takes no images).</summary>
    Unsupported,

    /// <summary>The header declares more pixels than <see cref="ImageLimits.MaxPixels"/>.</summary>
    TooLarge,

    /// <summary>A side shorter than <see cref="ImageLimits.MinSide"/>.</summary>
    TooSmall,

    /// <summary>A recognised format whose header or data cannot be decoded: truncated, malformed, zero-sized.</summary>
    Corrupt,
}
