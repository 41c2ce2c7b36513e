using CnnService.Tests.Support;

namespace CnnService.Tests.Imaging.Support;

/// <summary>
/// The image fixtures in <c>tests/fixtures/images/</c>, what each one is, and what decoding it must
/// give. <see cref="ImageFixtureMaker"/> writes them; the tests read them from the checkout.
/// </summary>
internal static class ImageFixtures
{
    /// <summary>
    /// A photo-like digit: MNIST test image <paramref name="MnistIndex"/> (label <paramref name="Label"/>) rendered
    /// by <see cref="PhotoRenderer"/> at <paramref name="Width"/> x <paramref name="Height"/> (upright) into <paramref name="File"/>.
    /// </summary>
    public sealed record Photo(string File, int Label, int MnistIndex, int Width, int Height, int Seed);

    /// <summary>The first test image of each digit, one per file, in every accepted format.</summary>
    public static IReadOnlyList<Photo> Photos { get; } =
    [
        new("photo-0.png", 0, 3, 300, 400, 100),
        new("photo-1.jpg", 1, 2, 400, 300, 101),
        new("photo-2.png", 2, 1, 240, 320, 102),
        new(Orientation6, 3, 18, 300, 400, 103),
        new("photo-4.png", 4, 4, 500, 375, 104),
        new("photo-5.jpg", 5, 8, 360, 480, 105),
        new("photo-6.webp", 6, 11, 300, 300, 106),
        new("photo-7.gif", 7, 0, 320, 240, 107),
        new("photo-8.bmp", 8, 61, 200, 260, 108),
        new("photo-9.jpg", 9, 7, 640, 480, 109),
    ];

    /// <summary>A JPEG photo stored turned 90° anticlockwise, with EXIF orientation 6 ("turn 90° clockwise to view").</summary>
    public const string Orientation6 = "photo-3-exif6.jpg";

    /// <summary>64 x 48 RGBA: left third transparent black, middle third red at alpha 128, right third opaque blue.</summary>
    public const string Transparent = "rgba-transparent.png";

    /// <summary>The first half of photo-0.png.</summary>
    public const string Truncated = "truncated.png";

    /// <summary>A 1 x 1 PNG whose IHDR says 100000 x 100000 (CRC fixed, so the header itself is valid).</summary>
    public const string HugeHeader = "huge-header.png";

    /// <summary>A GIF with a 65535 x 65535 logical screen and a single 1 x 1 frame.</summary>
    public const string GifBomb = "gif-bomb.gif";

    /// <summary>1,024 bytes of seeded noise.</summary>
    public const string RandomBytes = "random.bin";

    public static string PathOf(string name) => Fixtures.Image(name);

    public static byte[] Read(string name) => File.ReadAllBytes(PathOf(name));
}
