using CnnService.Imaging;
using CnnService.Tests.Imaging.Support;
using SkiaSharp;

namespace CnnService.Tests.Imaging;

public sealed class ImageDecoderTests
{
    public static TheoryData<string, int, int, ImageFormat> PhotoFiles()
    {
        var data = new TheoryData<string, int, int, ImageFormat>();
        foreach (ImageFixtures.Photo p in ImageFixtures.Photos)
            data.Add(p.File, p.Width, p.Height, ImageSignature.Detect(ImageFixtures.Read(p.File))!.Value);
        return data;
    }

    [Theory]
    [MemberData(nameof(PhotoFiles))]
    public void Every_format_decodes_to_its_upright_size(string file, int width, int height, ImageFormat format)
    {
        using DecodedImage image = ImageDecoder.Decode(ImageFixtures.Read(file), ImageLimits.Default);

        Assert.Equal(format, image.Format);
        Assert.Equal((width, height), (image.Width, image.Height));
        Assert.Equal(width * height * 3, image.Rgb.Length);
        // Paper in the corners, a dark digit somewhere: the pixels are the picture, not zeros.
        Assert.InRange(image.Pixel(0, 0).G, 170, 245);
        Assert.InRange(Darkest(image), 0, 110);
    }

    [Fact]
    public void The_fixtures_cover_all_five_formats()
    {
        var formats = ImageFixtures.Photos.Select(p => ImageSignature.Detect(ImageFixtures.Read(p.File))!.Value).Distinct().Order();
        Assert.Equal(Enum.GetValues<ImageFormat>().Order(), formats);
    }

    [Fact]
    public void A_jpeg_with_exif_orientation_6_is_turned_upright()
    {
        byte[] file = ImageFixtures.Read(ImageFixtures.Orientation6);
        using (var codec = SKCodec.Create(new SKMemoryStream(SKData.CreateCopy(file))))
        {
            Assert.Equal(SKEncodedOrigin.RightTop, codec.EncodedOrigin);
            Assert.Equal((400, 300), (codec.Info.Width, codec.Info.Height)); // stored on its side
        }

        using DecodedImage image = ImageDecoder.Decode(file, ImageLimits.Default);

        Assert.Equal((300, 400), (image.Width, image.Height));
    }

    /// <summary>
    /// Each EXIF orientation, on a 40 x 24 JPEG whose stored quadrants are black, red, green and blue: the decoded
    /// image must be the stored one transformed as the EXIF specification says (rotations and mirrors spelled out
    /// here independently of the decoder's walk).
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void Every_exif_orientation_is_applied(int orientation)
    {
        const int w = 40, h = 24;
        (byte, byte, byte)[] quadrants = [(0, 0, 0), (255, 0, 0), (0, 255, 0), (0, 0, 255)]; // TL, TR, BL, BR as stored
        var stored = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
        {
            var (r, g, b) = quadrants[(y < h / 2 ? 0 : 2) + (x < w / 2 ? 0 : 1)];
            stored[3 * (y * w + x)] = r;
            stored[3 * (y * w + x) + 1] = g;
            stored[3 * (y * w + x) + 2] = b;
        }

        byte[] jpeg = JpegExif.WithOrientation(SkiaEncoder.Encode(stored, w, h, SKEncodedImageFormat.Jpeg, 95), orientation);

        using DecodedImage image = ImageDecoder.Decode(jpeg, ImageLimits.Default);

        // Where each stored quadrant's centre must be seen: the display transform of the EXIF specification.
        Func<double, double, (double, double)> display = orientation switch
        {
            1 => (x, y) => (x, y),
            2 => (x, y) => (w - x, y), // mirrored left-right
            3 => (x, y) => (w - x, h - y), // turned 180°
            4 => (x, y) => (x, h - y), // mirrored top-bottom
            5 => (x, y) => (y, x), // transposed
            6 => (x, y) => (h - y, x), // turned 90° clockwise
            7 => (x, y) => (h - y, w - x), // transverse
            _ => (x, y) => (y, w - x), // turned 90° anticlockwise
        };
        bool turned = orientation >= 5;
        Assert.Equal(turned ? (h, w) : (w, h), (image.Width, image.Height));
        for (int q = 0; q < 4; q++)
        {
            (double cx, double cy) = display(q % 2 == 0 ? w / 4.0 : 3 * w / 4.0, q < 2 ? h / 4.0 : 3 * h / 4.0);
            var (r, g, b) = image.Pixel((int)cx, (int)cy);
            var expected = quadrants[q];
            Assert.True(Math.Abs(r - expected.Item1) + Math.Abs(g - expected.Item2) + Math.Abs(b - expected.Item3) < 60,
                $"orientation {orientation}: stored quadrant {q} should be at ({cx}, {cy}), found ({r}, {g}, {b})");
        }
    }

    [Fact]
    public void Transparency_is_composited_on_white()
    {
        using DecodedImage image = ImageDecoder.Decode(ImageFixtures.Read(ImageFixtures.Transparent), ImageLimits.Default);

        Assert.Equal((64, 48), (image.Width, image.Height));
        Assert.Equal(((byte)255, (byte)255, (byte)255), image.Pixel(5, 10)); // transparent black shows the white behind it
        Assert.Equal(((byte)255, (byte)127, (byte)127), image.Pixel(32, 10)); // half red over white: 255, 255 * 127 / 255
        Assert.Equal(((byte)0, (byte)0, (byte)255), image.Pixel(60, 10)); // opaque blue is untouched
    }

    [Fact]
    public void An_animated_gif_gives_its_first_frame()
    {
        byte[] dark = Enumerable.Repeat((byte)20, 12 * 8).ToArray(), light = Enumerable.Repeat((byte)230, 12 * 8).ToArray();

        using DecodedImage image = ImageDecoder.Decode(GifWriter.Animation([dark, light, light], 12, 8), ImageLimits.Default);

        Assert.Equal((12, 8), (image.Width, image.Height));
        Assert.Equal(((byte)20, (byte)20, (byte)20), image.Pixel(6, 4));
    }

    [Fact]
    public void No_bytes_is_Empty()
    {
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode([], ImageLimits.Default));
        Assert.Equal(ImageErrorKind.Empty, e.Kind);
        Assert.Equal("the image is empty (0 bytes)", e.Message);
    }

    [Fact]
    public void Random_bytes_are_Unsupported()
    {
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(ImageFixtures.Read(ImageFixtures.RandomBytes), ImageLimits.Default));
        Assert.Equal(ImageErrorKind.Unsupported, e.Kind);
        Assert.StartsWith("not a PNG, JPEG, GIF, BMP or WebP image (1,024 bytes starting ", e.Message);
    }

    [Theory]
    [InlineData("hello, this is text\n")]
    [InlineData("<svg xmlns=\"http://www.w3.org/2000/svg\"/>")]
    [InlineData("\0\0\0\0\0\0\0\0")] // what Skia's loose WBMP sniffer would take for an image
    public void Text_and_other_formats_are_Unsupported(string content)
    {
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(System.Text.Encoding.UTF8.GetBytes(content), ImageLimits.Default));
        Assert.Equal(ImageErrorKind.Unsupported, e.Kind);
    }

    [Fact]
    public void A_truncated_png_is_Corrupt_and_says_how_far_it_got()
    {
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(ImageFixtures.Read(ImageFixtures.Truncated), ImageLimits.Default));

        Assert.Equal(ImageErrorKind.Corrupt, e.Kind);
        Assert.Matches(@"^PNG file is truncated: its data ends (after [\d,]+ of|before the first of) its 400 rows$", e.Message);
    }

    [Theory]
    [InlineData("photo-1.jpg", 0.5)]
    [InlineData("photo-1.jpg", 0.9)]
    [InlineData("photo-6.webp", 0.5)]
    [InlineData("photo-7.gif", 0.5)]
    [InlineData("photo-8.bmp", 0.5)]
    [InlineData("photo-0.png", 0.02)]
    [InlineData("photo-1.jpg", 0.01)]
    public void Any_truncated_image_is_Corrupt(string file, double kept)
    {
        byte[] whole = ImageFixtures.Read(file);
        byte[] cut = whole[..(int)(whole.Length * kept)];

        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(cut, ImageLimits.Default));

        Assert.Equal(ImageErrorKind.Corrupt, e.Kind);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void A_signature_alone_is_Corrupt_not_Unsupported()
    {
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(ImageFixtures.Read("photo-0.png")[..8], ImageLimits.Default));
        Assert.Equal(ImageErrorKind.Corrupt, e.Kind);
        Assert.Equal("PNG file is truncated: its 8 bytes end inside the header", e.Message);
    }

    [Fact]
    public void A_png_header_claiming_100000_squared_is_TooLarge_before_any_pixel_is_decoded()
    {
        byte[] file = ImageFixtures.Read(ImageFixtures.HugeHeader);
        Assert.True(file.Length < 100, "the whole file is a header and one pixel");

        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(file, ImageLimits.Default));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(ImageErrorKind.TooLarge, e.Kind);
        Assert.Equal("PNG header says 100000 x 100000 pixels; the limit is 16,777,216", e.Message);
        Assert.True(allocated < 100_000, $"{allocated:N0} bytes allocated: a pixel buffer would be 40 GB");
    }

    [Fact]
    public void A_gif_bomb_is_TooLarge_from_its_logical_screen()
    {
        byte[] file = ImageFixtures.Read(ImageFixtures.GifBomb);
        Assert.True(file.Length < 100);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(file, ImageLimits.Default));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(ImageErrorKind.TooLarge, e.Kind);
        Assert.Equal("GIF header says 65535 x 65535 pixels; the limit is 16,777,216", e.Message);
        Assert.True(allocated < 100_000, $"{allocated:N0} bytes allocated");
    }

    [Fact]
    public void The_limit_is_the_callers()
    {
        byte[] file = ImageFixtures.Read("photo-0.png"); // 300 x 400 = 120,000 pixels

        Assert.Equal(300, ImageDecoder.Decode(file, new ImageLimits { MaxPixels = 120_000 }).Width);
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(file, new ImageLimits { MaxPixels = 119_999 }));
        Assert.Equal(ImageErrorKind.TooLarge, e.Kind);
        Assert.Equal("PNG header says 300 x 400 pixels; the limit is 119,999", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageLimits { MaxPixels = 0 });
    }

    [Fact]
    public void A_png_header_with_a_zero_dimension_is_Corrupt()
    {
        byte[] png = SkiaEncoder.EncodeGray([0], 1, 1, SKEncodedImageFormat.Png);

        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(PngHeader.WithSize(png, 0, 5), ImageLimits.Default));

        Assert.Equal(ImageErrorKind.Corrupt, e.Kind);
    }

    [Fact]
    public void A_png_with_a_damaged_pixel_stream_is_Corrupt()
    {
        byte[] png = ImageFixtures.Read("photo-2.png");
        byte[] damaged = (byte[])png.Clone();
        for (int i = png.Length / 3; i < png.Length / 3 + 64; i++) damaged[i] ^= 0x5A;

        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(damaged, ImageLimits.Default));

        Assert.Equal(ImageErrorKind.Corrupt, e.Kind);
    }

    [Fact]
    public void Decoding_on_many_threads_at_once_gives_the_same_pixels()
    {
        byte[] file = ImageFixtures.Read("photo-9.jpg");
        byte[] expected;
        using (DecodedImage first = ImageDecoder.Decode(file, ImageLimits.Default)) expected = first.Rgb.ToArray();

        Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ =>
        {
            using DecodedImage image = ImageDecoder.Decode(file, ImageLimits.Default);
            Assert.True(image.Rgb.SequenceEqual(expected));
        });
    }

    [Fact]
    public void A_jpeg_is_decoded_reduced_when_the_caller_needs_less_but_never_below_what_it_asked()
    {
        byte[] file = ImageFixtures.Read("photo-9.jpg"); // 640 x 480

        using (DecodedImage quarter = ImageDecoder.Decode(file, ImageLimits.Default, 100, 100)) // 1/8 would be 80 x 60
            Assert.Equal((160, 120), (quarter.Width, quarter.Height));
        using (DecodedImage eighth = ImageDecoder.Decode(file, ImageLimits.Default, 28, 28))
            Assert.Equal((80, 60), (eighth.Width, eighth.Height));
        using (DecodedImage full = ImageDecoder.Decode(file, ImageLimits.Default, 400, 400))
            Assert.Equal((640, 480), (full.Width, full.Height));
    }

    [Fact]
    public void The_reduction_is_chosen_for_the_upright_size()
    {
        // Stored 400 x 300, upright 300 x 400: 150 x 200 upright is the first reduction at least 100 wide and 200 high.
        using DecodedImage image = ImageDecoder.Decode(ImageFixtures.Read(ImageFixtures.Orientation6), ImageLimits.Default, 100, 200);

        Assert.Equal((150, 200), (image.Width, image.Height));
    }

    [Fact]
    public void Formats_that_cannot_decode_reduced_come_at_full_size()
    {
        using DecodedImage png = ImageDecoder.Decode(ImageFixtures.Read("photo-0.png"), ImageLimits.Default, 28, 28);
        using DecodedImage gif = ImageDecoder.Decode(ImageFixtures.Read("photo-7.gif"), ImageLimits.Default, 28, 28);

        Assert.Equal((300, 400), (png.Width, png.Height));
        Assert.Equal((320, 240), (gif.Width, gif.Height));
    }

    [Fact]
    public void The_limit_is_on_the_declared_size_even_when_decoding_reduced()
    {
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(ImageFixtures.Read("photo-9.jpg"), new ImageLimits { MaxPixels = 100_000 }, 28, 28));

        Assert.Equal("JPEG header says 640 x 480 pixels; the limit is 100,000", e.Message);
    }

    [Fact]
    public void A_disposed_image_has_no_pixels()
    {
        DecodedImage image = ImageDecoder.Decode(ImageFixtures.Read("photo-2.png"), ImageLimits.Default);
        image.Dispose();
        image.Dispose();

        Assert.Throws<ObjectDisposedException>(() => image.Rgb.Length);
        Assert.Throws<ObjectDisposedException>(() => image.Pixel(0, 0));
    }

    private static int Darkest(DecodedImage image)
    {
        int darkest = 255;
        ReadOnlySpan<byte> rgb = image.Rgb;
        for (int i = 1; i < rgb.Length; i += 3) darkest = Math.Min(darkest, rgb[i]);
        return darkest;
    }
}
