namespace CnnService.Imaging;

/// <summary>
/// Image files on disk: which names an image folder counts as images, and reading one with a bound
/// on its size. The format itself is always decided by the bytes (<see cref="ImageSignature"/>),
/// never the extension; the extension only says which files of a folder are meant to be images.
/// </summary>
public static class ImageFiles
{
    /// <summary>The extensions (lower case, with the dot) taken for images, compared case-insensitively.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"];

    /// <summary>No image this library accepts comes near this (a 4096 x 4096 BMP is 64 MB); a larger file is not read.</summary>
    public const long MaxFileBytes = 256L << 20;

    /// <summary>"*.png, *.jpg, ...", for messages.</summary>
    public static string Patterns => string.Join(", ", Extensions.Select(e => "*" + e));

    public static bool HasImageExtension(string path)
    {
        string extension = Path.GetExtension(path);
        foreach (string e in Extensions)
        {
            if (extension.Equals(e, StringComparison.OrdinalIgnoreCase)) return true;
        }

        return false;
    }

    /// <summary>The whole file; a file over <see cref="MaxFileBytes"/> is <see cref="ImageErrorKind.TooLarge"/> without being read.</summary>
    public static byte[] Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        long length = stream.Length;
        if (length > MaxFileBytes)
            throw new ImageDecodeException(ImageErrorKind.TooLarge, $"the file is {length:N0} bytes; image files are read up to {MaxFileBytes:N0}");
        var bytes = new byte[length];
        stream.ReadExactly(bytes);
        return bytes;
    }
}
