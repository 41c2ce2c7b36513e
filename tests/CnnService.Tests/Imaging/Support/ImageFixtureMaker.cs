using CnnService.Engine.Data;
using CnnService.Tests.Support;
using SkiaSharp;

namespace CnnService.Tests.Imaging.Support;

/// <summary>Runs only when <see cref="Variable"/> is 1 (<c>scripts/make-image-fixtures.sh</c> sets it); skipped otherwise.</summary>
public sealed class FixtureMakerFactAttribute : FactAttribute
{
    public const string Variable = "CNN_MAKE_IMAGE_FIXTURES";

    public FixtureMakerFactAttribute()
    {
        if (Environment.GetEnvironmentVariable(Variable) != "1")
            Skip = $"writes tests/fixtures/images; run scripts/make-image-fixtures.sh (sets {Variable}=1)";
    }
}

/// <summary>
/// Writes <c>tests/fixtures/images/</c> (see <see cref="ImageFixtures"/> and tests/fixtures/README.md)
/// from the committed MNIST fixture. Deterministic: the same SkiaSharp gives the same bytes.
/// </summary>
public sealed class ImageFixtureMaker
{
    [FixtureMakerFact]
    public void Write_the_image_fixtures()
    {
        Directory.CreateDirectory(Fixtures.Images);
        IDataset mnist = IdxDataset.Open(Fixtures.MnistSmall, DatasetSplit.Test);
        var digit = new float[28 * 28];
        var bytes = new byte[28 * 28];
        foreach (ImageFixtures.Photo photo in ImageFixtures.Photos)
        {
            Assert.Equal(photo.Label, mnist.Label(photo.MnistIndex));
            mnist.CopyPixels(photo.MnistIndex, digit);
            for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)digit[i];
            byte[] rgb = PhotoRenderer.Render(bytes, photo.Width, photo.Height, photo.Seed);
            Write(photo.File, Encode(photo, rgb));
        }

        Write(ImageFixtures.Transparent, Transparent());
        byte[] png = File.ReadAllBytes(ImageFixtures.PathOf(ImageFixtures.Photos[0].File));
        Write(ImageFixtures.Truncated, png[..(png.Length / 2)]);
        byte[] onePixel = SkiaEncoder.EncodeGray([0], 1, 1, SKEncodedImageFormat.Png);
        Write(ImageFixtures.HugeHeader, PngHeader.WithSize(onePixel, 100_000, 100_000));
        Write(ImageFixtures.GifBomb, GifWriter.Bomb(65535, 65535));
        var noise = new byte[1024];
        new Random(42).NextBytes(noise);
        Write(ImageFixtures.RandomBytes, noise);
    }

    private static byte[] Encode(ImageFixtures.Photo photo, byte[] rgb)
    {
        int w = photo.Width, h = photo.Height;
        if (photo.File == ImageFixtures.Orientation6)
        {
            // Stored turned anticlockwise (h x w); EXIF 6 tells a viewer to turn it back clockwise.
            byte[] stored = RotateAnticlockwise(rgb, w, h);
            return JpegExif.WithOrientation(SkiaEncoder.Encode(stored, h, w, SKEncodedImageFormat.Jpeg, 85), 6);
        }

        return Path.GetExtension(photo.File) switch
        {
            ".png" => SkiaEncoder.EncodeGray(PhotoRenderer.ToGray(rgb), w, h, SKEncodedImageFormat.Png),
            ".jpg" => SkiaEncoder.Encode(rgb, w, h, SKEncodedImageFormat.Jpeg, 85),
            ".webp" => SkiaEncoder.Encode(rgb, w, h, SKEncodedImageFormat.Webp, 80),
            ".gif" => GifWriter.Write(PhotoRenderer.ToGray(rgb), w, h),
            ".bmp" => BmpWriter.Write(PhotoRenderer.ToGray(rgb), w, h),
            string other => throw new InvalidOperationException($"No encoder for {other}."),
        };
    }

    /// <summary>RGB <paramref name="width"/> x <paramref name="height"/> turned 90° anticlockwise: (x, y) moves to (y, width - 1 - x).</summary>
    internal static byte[] RotateAnticlockwise(byte[] rgb, int width, int height)
    {
        var turned = new byte[rgb.Length];
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
            rgb.AsSpan(3 * (y * width + x), 3).CopyTo(turned.AsSpan(3 * ((width - 1 - x) * height + y)));
        return turned;
    }

    private static byte[] Transparent()
    {
        const int w = 64, h = 48;
        var rgba = new byte[w * h * 4];
        for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
        {
            byte[] pixel = x < w / 3 ? [0, 0, 0, 0] : x < 2 * w / 3 ? [255, 0, 0, 128] : [0, 0, 255, 255];
            pixel.CopyTo(rgba, 4 * (y * w + x));
        }

        return SkiaEncoder.EncodeRgba(rgba, w, h, SKEncodedImageFormat.Png);
    }

    private static void Write(string name, byte[] bytes) => File.WriteAllBytes(ImageFixtures.PathOf(name), bytes);
}
