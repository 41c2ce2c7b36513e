namespace CnnService.Imaging;

/// <summary>
/// An image cannot be turned into pixels. The message is one human-readable sentence about the
/// bytes (the caller adds a file name when there is one); <see cref="Kind"/> says which of the
/// four failures it is, so that a service can choose its status code without parsing text.
/// </summary>
public sealed class ImageDecodeException(ImageErrorKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public ImageErrorKind Kind { get; } = kind;
}
