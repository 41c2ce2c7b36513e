using CnnService.Engine.Data;
using CnnService.Engine.Format;
using CnnService.Imaging;
using CnnService.Tests.Imaging.Support;
using CnnService.Tests.Support;
using SkiaSharp;
using Xunit.Abstractions;

namespace CnnService.Tests.Imaging;

public sealed class MnistPreprocessingTests(ITestOutputHelper output)
{
    [Fact]
    public void The_shipped_mnist_model_reads_the_photo_like_digits()
    {
        InputSpec spec = MnistModel.MnistInput;
        var input = new float[28 * 28];
        int correct = 0;
        foreach (ImageFixtures.Photo photo in ImageFixtures.Photos)
        {
            ImagePreprocessor.ToInput(ImageFixtures.Read(photo.File), spec, ImageLimits.Default, input);
            int predicted = MnistModel.Predict(input);
            output.WriteLine($"{photo.File}: label {photo.Label}, predicted {predicted}");
            if (predicted == photo.Label) correct++;
        }

        Assert.True(correct >= 9, $"{correct} of {ImageFixtures.Photos.Count} photos read correctly");
    }

    [Theory]
    [InlineData("1")]
    [InlineData("2")]
    public void The_shipped_mnist_models_ask_for_it(string version)
    {
        ModelSpec spec = ModelSpecJson.Load(Path.Combine(Fixtures.Models, "mnist", version, "model.json"));

        Assert.Equal(ImagePreprocessing.Mnist, ImagePreprocessor.PreprocessingOf(spec.Input));
    }

    [Fact]
    public void Without_the_preprocessing_the_photos_are_misread()
    {
        // The control: the same model on a plain resize of the same photos (dark ink on light paper, off centre).
        InputSpec spec = MnistModel.Model.Spec.Input;
        var input = new float[28 * 28];
        var plain = new InputSpec { Channels = 1, Height = 28, Width = 28, Color = ColorMode.Grayscale, Scale = spec.Scale, Mean = spec.Mean, Std = spec.Std };
        int correct = 0;
        foreach (ImageFixtures.Photo photo in ImageFixtures.Photos)
        {
            ImagePreprocessor.ToInput(ImageFixtures.Read(photo.File), plain, ImageLimits.Default, input);
            if (MnistModel.Predict(input) == photo.Label) correct++;
        }

        output.WriteLine($"{correct} of 10 without preprocessing");
        Assert.True(correct <= 5, $"{correct} of 10 read correctly without preprocessing");
    }

    [Fact]
    public void Preprocessed_photos_have_their_centre_of_mass_at_14_14_and_fill_a_20_pixel_box()
    {
        InputSpec spec = MnistModel.MnistInput;
        var pixels = new float[28 * 28];
        foreach (ImageFixtures.Photo photo in ImageFixtures.Photos)
        {
            ImagePreprocessor.ToPixels(ImageFixtures.Read(photo.File), spec, ImageLimits.Default, pixels);
            (double x, double y) = CentreOfMass(pixels);
            (int width, int height) = InkBox(pixels, 64);
            output.WriteLine($"{photo.File}: centre ({x:F2}, {y:F2}), box {width} x {height}, max {pixels.Max()}");
            Assert.InRange(x, 13.5, 14.5);
            Assert.InRange(y, 13.5, 14.5);
            Assert.InRange(Math.Max(width, height), 18, 22);
            Assert.Equal(255, pixels.Max());
            Assert.All(pixels, v => Assert.Equal(MathF.Round(v), v));
        }
    }

    [Fact]
    public void Mnist_digits_themselves_come_through_nearly_unchanged()
    {
        // MNIST's own test digits, written as PNGs: already light on black, centred and 20 pixels tall.
        IDataset mnist = IdxDataset.Open(Fixtures.MnistSmall, DatasetSplit.Test);
        InputSpec spec = MnistModel.MnistInput;
        var digit = new float[28 * 28];
        var input = new float[28 * 28];
        var gray = new byte[28 * 28];
        const int count = 200;
        int correct = 0;
        for (int i = 0; i < count; i++)
        {
            mnist.CopyPixels(i, digit);
            for (int k = 0; k < gray.Length; k++) gray[k] = (byte)digit[k];
            ImagePreprocessor.ToInput(SkiaEncoder.EncodeGray(gray, 28, 28, SKEncodedImageFormat.Png), spec, ImageLimits.Default, input);
            if (MnistModel.Predict(input) == mnist.Label(i)) correct++;
        }

        output.WriteLine($"{correct} of {count}");
        Assert.True(correct >= count - 2, $"{correct} of {count} MNIST test digits read correctly after preprocessing");
    }

    [Theory]
    [InlineData(3f)]
    [InlineData(24f)]
    public void Pen_strokes_thin_or_thick_are_read(float pen)
    {
        // A 3-pixel pen on a 420-pixel digit is a tenth of a pixel after the reduction to 20; MNIST's strokes are about two.
        InputSpec spec = MnistModel.MnistInput;
        var input = new float[28 * 28];
        int correct = 0;
        foreach (int digit in PenDigits.Shapes.Keys)
        {
            ImagePreprocessor.ToInput(PenDigits.Png(digit, pen), spec, ImageLimits.Default, input);
            int predicted = MnistModel.Predict(input);
            output.WriteLine($"pen {pen}: {digit} read as {predicted}");
            if (predicted == digit) correct++;
        }

        Assert.True(correct >= PenDigits.Shapes.Count - 1, $"{correct} of {PenDigits.Shapes.Count} pen digits read correctly");
    }

    [Fact]
    public void Light_ink_on_dark_paper_gives_the_same_digit_as_dark_on_light()
    {
        InputSpec spec = MnistModel.MnistInput;
        using DecodedImage photo = ImageDecoder.Decode(ImageFixtures.Read("photo-2.png"), ImageLimits.Default);
        byte[] inverted = photo.Rgb.ToArray();
        for (int i = 0; i < inverted.Length; i++) inverted[i] = (byte)(255 - inverted[i]);
        byte[] invertedPng = SkiaEncoder.Encode(inverted, photo.Width, photo.Height, SKEncodedImageFormat.Png);

        float[] dark = new float[784], light = new float[784];
        ImagePreprocessor.ToPixels(photo, spec, dark);
        ImagePreprocessor.ToPixels(invertedPng, spec, ImageLimits.Default, light);

        Assert.True(MaxDifference(dark, light) <= 2, $"differ by up to {MaxDifference(dark, light)}");
    }

    [Fact]
    public void A_speck_away_from_the_digit_is_ignored()
    {
        InputSpec spec = MnistModel.MnistInput;
        using DecodedImage photo = ImageDecoder.Decode(ImageFixtures.Read("photo-0.png"), ImageLimits.Default);
        byte[] specked = photo.Rgb.ToArray();
        for (int y = 20; y < 26; y++)
        for (int x = 20; x < 26; x++)
            specked.AsSpan(3 * (y * photo.Width + x), 3).Fill(40); // a 6-pixel ink dot near the top-left corner

        float[] clean = new float[784], withSpeck = new float[784];
        ImagePreprocessor.ToPixels(photo, spec, clean);
        ImagePreprocessor.ToPixels(SkiaEncoder.Encode(specked, photo.Width, photo.Height, SKEncodedImageFormat.Png), spec, ImageLimits.Default, withSpeck);

        Assert.Equal(clean, withSpeck);
    }

    [Theory]
    [InlineData(210)]
    [InlineData(0)]
    public void A_blank_image_is_all_zeros(byte level)
    {
        var gray = new byte[200 * 100];
        new Random(1).NextBytes(gray);
        for (int i = 0; i < gray.Length; i++) gray[i] = (byte)Math.Clamp(level + gray[i] % 9 - 4, 0, 255); // paper noise, no ink
        var pixels = new float[784];
        pixels.AsSpan().Fill(7);

        ImagePreprocessor.ToPixels(SkiaEncoder.EncodeGray(gray, 200, 100, SKEncodedImageFormat.Png), MnistModel.MnistInput, ImageLimits.Default, pixels);

        Assert.All(pixels, v => Assert.Equal(0f, v));
    }

    private static float MaxDifference(float[] a, float[] b)
    {
        float max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }

    private static (double X, double Y) CentreOfMass(float[] pixels)
    {
        double mass = 0, x = 0, y = 0;
        for (int i = 0; i < pixels.Length; i++)
        {
            mass += pixels[i];
            x += pixels[i] * (i % 28);
            y += pixels[i] * (i / 28);
        }

        return (x / mass, y / mass);
    }

    private static (int Width, int Height) InkBox(float[] pixels, float level)
    {
        int x0 = 28, x1 = -1, y0 = 28, y1 = -1;
        for (int i = 0; i < pixels.Length; i++)
        {
            if (pixels[i] < level) continue;
            x0 = Math.Min(x0, i % 28);
            x1 = Math.Max(x1, i % 28);
            y0 = Math.Min(y0, i / 28);
            y1 = Math.Max(y1, i / 28);
        }

        return (x1 - x0 + 1, y1 - y0 + 1);
    }
}
