using System.Text.Json.Nodes;
using CnnService.Engine.Data;
using CnnService.Engine.Format;
using CnnService.Imaging;
using CnnService.Tests.Imaging.Support;
using SkiaSharp;

namespace CnnService.Tests.Imaging;

public sealed class ImagePreprocessorTests
{
    private static InputSpec Spec(ColorMode color, int height, int width, string? preprocess = null, float[]? mean = null, float[]? std = null)
    {
        int channels = color == ColorMode.Rgb ? 3 : 1;
        return new InputSpec
        {
            Channels = channels, Height = height, Width = width, Color = color, Scale = 1 / 255f,
            Mean = mean ?? new float[channels], Std = std ?? Enumerable.Repeat(1f, channels).ToArray(),
            Extra = preprocess is null ? new JsonObject() : new JsonObject { ["preprocess"] = preprocess },
        };
    }

    private static byte[] SolidPng(int width, int height, byte r, byte g, byte b)
    {
        var rgb = new byte[width * height * 3];
        for (int i = 0; i < width * height; i++) (rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]) = (r, g, b);
        return SkiaEncoder.Encode(rgb, width, height, SKEncodedImageFormat.Png);
    }

    [Fact]
    public void Grayscale_is_bt601_luminance_rounded_as_PIL_does()
    {
        var pixels = new float[4 * 4];

        ImagePreprocessor.ToPixels(SolidPng(8, 8, 255, 0, 0), Spec(ColorMode.Grayscale, 4, 4), ImageLimits.Default, pixels);
        Assert.All(pixels, v => Assert.Equal(76f, v)); // 0.299 * 255 = 76.2
        ImagePreprocessor.ToPixels(SolidPng(8, 8, 10, 200, 30), Spec(ColorMode.Grayscale, 4, 4), ImageLimits.Default, pixels);
        Assert.All(pixels, v => Assert.Equal(124f, v)); // 2.99 + 117.4 + 3.42 = 123.8
        Assert.Equal(29, Luminance.Of(0, 0, 255));
        Assert.Equal(150, Luminance.Of(0, 255, 0));
        Assert.Equal(255, Luminance.Of(255, 255, 255));
    }

    [Fact]
    public void Rgb_keeps_the_channels_as_planes()
    {
        var pixels = new float[3 * 5 * 7];

        ImagePreprocessor.ToPixels(SolidPng(20, 9, 10, 200, 30), Spec(ColorMode.Rgb, 5, 7), ImageLimits.Default, pixels);

        Assert.All(pixels[..35], v => Assert.Equal(10f, v));
        Assert.All(pixels[35..70], v => Assert.Equal(200f, v));
        Assert.All(pixels[70..], v => Assert.Equal(30f, v));
    }

    [Fact]
    public void Reducing_averages_what_each_output_pixel_covers()
    {
        // A one-pixel checkerboard reduced 8-fold is mid-grey: every output pixel averages its 8 x 8 (and neighbours') black and white.
        const int n = 64;
        var gray = new byte[n * n];
        for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++)
            gray[y * n + x] = (byte)((x + y) % 2 == 0 ? 255 : 0);
        var pixels = new float[8 * 8];

        ImagePreprocessor.ToPixels(SkiaEncoder.EncodeGray(gray, n, n, SKEncodedImageFormat.Png), Spec(ColorMode.Grayscale, 8, 8), ImageLimits.Default, pixels);

        Assert.All(pixels, v => Assert.InRange(v, 126, 129));
    }

    [Fact]
    public void Resizing_keeps_the_picture_where_it_was()
    {
        // Left half black, right half white, 300 x 200 to 30 x 20: black on the left, white on the right, a soft edge in the middle.
        var gray = new byte[300 * 200];
        for (int y = 0; y < 200; y++) gray.AsSpan(y * 300 + 150, 150).Fill(255);
        var pixels = new float[20 * 30];

        ImagePreprocessor.ToPixels(SkiaEncoder.EncodeGray(gray, 300, 200, SKEncodedImageFormat.Png), Spec(ColorMode.Grayscale, 20, 30), ImageLimits.Default, pixels);

        for (int y = 0; y < 20; y++)
        {
            Assert.All(pixels.AsSpan(y * 30, 14).ToArray(), v => Assert.Equal(0f, v));
            Assert.All(pixels.AsSpan(y * 30 + 16, 14).ToArray(), v => Assert.Equal(255f, v));
            Assert.InRange(pixels[y * 30 + 14], 1, 127);
            Assert.InRange(pixels[y * 30 + 15], 128, 254);
        }
    }

    [Fact]
    public void Enlarging_a_small_image_works_too()
    {
        var pixels = new float[28 * 28];

        ImagePreprocessor.ToPixels(SolidPng(3, 2, 0, 0, 0), Spec(ColorMode.Grayscale, 28, 28), ImageLimits.Default, pixels);

        Assert.All(pixels, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void ToInput_is_ToPixels_normalised_by_the_engine()
    {
        InputSpec spec = Spec(ColorMode.Rgb, 12, 10, mean: [0.5f, 0.4f, 0.3f], std: [0.2f, 0.25f, 0.3f]);
        byte[] file = ImageFixtures.Read("photo-9.jpg");
        var pixels = new float[spec.Channels * 12 * 10];
        var input = new float[pixels.Length + 5];
        input.AsSpan(pixels.Length).Fill(-9);

        ImagePreprocessor.ToPixels(file, spec, ImageLimits.Default, pixels);
        ImagePreprocessor.ToInput(file, spec, ImageLimits.Default, input);

        var expected = new float[pixels.Length];
        InputNormalization.Apply(spec, pixels, expected);
        Assert.Equal(expected, input[..pixels.Length]);
        Assert.All(input[pixels.Length..], v => Assert.Equal(-9f, v)); // only the first C x H x W values are written
        Assert.All(pixels, v => Assert.Equal(MathF.Round(v), v));
    }

    [Fact]
    public void A_model_that_takes_no_images_is_Unsupported()
    {
        var spec = new InputSpec { Channels = 4, Height = 1, Width = 1, Color = ColorMode.None, Mean = new float[4], Std = [1, 1, 1, 1] };

        var e = Assert.Throws<ImageDecodeException>(() => ImagePreprocessor.ToInput(ImageFixtures.Read("photo-0.png"), spec, ImageLimits.Default, new float[4]));

        Assert.Equal(ImageErrorKind.Unsupported, e.Kind);
        Assert.Equal("this model does not take images: its input is a tensor of 4 x 1 x 1 values (color \"none\")", e.Message);
        Assert.Equal(ImagePreprocessing.None, ImagePreprocessor.PreprocessingOf(spec));
    }

    [Fact]
    public void The_preprocessing_is_read_from_the_input_spec()
    {
        Assert.Equal(ImagePreprocessing.Resize, ImagePreprocessor.PreprocessingOf(Spec(ColorMode.Rgb, 32, 32)));
        Assert.Equal(ImagePreprocessing.Mnist, ImagePreprocessor.PreprocessingOf(Spec(ColorMode.Grayscale, 28, 28, "mnist")));

        var unknown = Assert.Throws<ArgumentException>(() => ImagePreprocessor.PreprocessingOf(Spec(ColorMode.Grayscale, 28, 28, "imagenet")));
        Assert.StartsWith("input \"preprocess\": \"imagenet\" is not a known preprocessing (known: \"mnist\")", unknown.Message);
        var rgb = Assert.Throws<ArgumentException>(() => ImagePreprocessor.PreprocessingOf(Spec(ColorMode.Rgb, 28, 28, "mnist")));
        Assert.StartsWith("input \"preprocess\": \"mnist\" needs a grayscale input, this one is rgb", rgb.Message);
        InputSpec number = Spec(ColorMode.Grayscale, 28, 28);
        number.Extra["preprocess"] = 3;
        Assert.Throws<ArgumentException>(() => ImagePreprocessor.PreprocessingOf(number));
    }

    [Fact]
    public void The_model_and_the_destination_are_checked_before_the_image()
    {
        // A model error wins over a bad image: it is the caller's, whatever was uploaded.
        var spec = new InputSpec { Channels = 1, Height = 1, Width = 1, Color = ColorMode.None, Mean = [0], Std = [1] };
        Assert.Equal(ImageErrorKind.Unsupported, Assert.Throws<ImageDecodeException>(() => ImagePreprocessor.ToInput([], spec, ImageLimits.Default, new float[1])).Kind);
        Assert.Throws<ArgumentException>(() => ImagePreprocessor.ToInput([], Spec(ColorMode.Grayscale, 28, 28), ImageLimits.Default, new float[783]));
    }

    [Fact]
    public void Decode_errors_come_through_with_their_kind()
    {
        InputSpec spec = Spec(ColorMode.Grayscale, 28, 28, "mnist");
        var destination = new float[784];

        Assert.Equal(ImageErrorKind.Empty, Assert.Throws<ImageDecodeException>(() => ImagePreprocessor.ToInput([], spec, ImageLimits.Default, destination)).Kind);
        Assert.Equal(ImageErrorKind.TooLarge, Assert.Throws<ImageDecodeException>(() =>
            ImagePreprocessor.ToInput(ImageFixtures.Read(ImageFixtures.GifBomb), spec, ImageLimits.Default, destination)).Kind);
    }

    [Fact]
    public void Many_threads_at_once_get_the_same_inputs()
    {
        InputSpec spec = Spec(ColorMode.Grayscale, 28, 28, "mnist");
        string[] files = ImageFixtures.Photos.Select(p => p.File).ToArray();
        float[][] expected = files.Select(f =>
        {
            var input = new float[784];
            ImagePreprocessor.ToInput(ImageFixtures.Read(f), spec, ImageLimits.Default, input);
            return input;
        }).ToArray();
        byte[][] bytes = files.Select(ImageFixtures.Read).ToArray();

        Parallel.For(0, 40, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var input = new float[784];
            ImagePreprocessor.ToInput(bytes[i % files.Length], spec, ImageLimits.Default, input);
            Assert.Equal(expected[i % files.Length], input);
        });
    }
}
