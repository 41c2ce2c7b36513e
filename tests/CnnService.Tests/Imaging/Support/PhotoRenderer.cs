namespace CnnService.Tests.Imaging.Support;

/// <summary>
/// Fakes a phone photo of a handwritten digit from an MNIST digit: the 28 x 28 digit enlarged
/// (bilinear, so its strokes are soft like a marker's), dark ink on slightly warm grey paper with a
/// lighting gradient and sensor noise, at a random size and off centre. Everything about it is a
/// function of the seed, so the fixtures can be made again byte for byte.
/// </summary>
internal static class PhotoRenderer
{
    /// <summary>RGB bytes, <paramref name="width"/> x <paramref name="height"/>; <paramref name="digit"/> is 28 x 28 MNIST (ink high).</summary>
    public static byte[] Render(ReadOnlySpan<byte> digit, int width, int height, int seed)
    {
        var random = new Random(seed);
        int shorter = Math.Min(width, height);
        // The digit's 20-pixel box takes 45-65 % of the shorter side; the 28-pixel field around it is 'side'.
        double box = shorter * (0.45 + 0.2 * random.NextDouble()), side = box * 28 / 20;
        double marginX = (width - box) / 2 - 4, marginY = (height - box) / 2 - 4;
        double centreX = width / 2.0 + marginX * (random.NextDouble() * 1.6 - 0.8);
        double centreY = height / 2.0 + marginY * (random.NextDouble() * 1.6 - 0.8);
        double paper = 200 + 20 * random.NextDouble(), ink = 35 + 30 * random.NextDouble();
        double slopeX = (random.NextDouble() - 0.5) * 20 / width, slopeY = (random.NextDouble() - 0.5) * 20 / height;

        var rgb = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                double u = (x + 0.5 - centreX) / side * 28 + 14 - 0.5, v = (y + 0.5 - centreY) / side * 28 + 14 - 0.5;
                double amount = Bilinear(digit, u, v) / 255;
                double light = paper + (x - width / 2.0) * slopeX + (y - height / 2.0) * slopeY;
                double value = light * (1 - amount) + ink * amount + 3 * Gaussian(random);
                rgb[3 * (y * width + x)] = Clamp(value + 5);
                rgb[3 * (y * width + x) + 1] = Clamp(value);
                rgb[3 * (y * width + x) + 2] = Clamp(value - 6);
            }
        }

        return rgb;
    }

    /// <summary>BT.601 luminance, for the formats written as grayscale (GIF, BMP).</summary>
    public static byte[] ToGray(byte[] rgb)
    {
        var gray = new byte[rgb.Length / 3];
        for (int i = 0; i < gray.Length; i++) gray[i] = Clamp(0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2]);
        return gray;
    }

    /// <summary>The 28 x 28 image at continuous index coordinates (u, v), 0 outside.</summary>
    private static double Bilinear(ReadOnlySpan<byte> digit, double u, double v)
    {
        if (u <= -1 || v <= -1 || u >= 28 || v >= 28) return 0;
        int x0 = (int)Math.Floor(u), y0 = (int)Math.Floor(v);
        double fx = u - x0, fy = v - y0;
        return (1 - fy) * ((1 - fx) * At(digit, x0, y0) + fx * At(digit, x0 + 1, y0))
               + fy * ((1 - fx) * At(digit, x0, y0 + 1) + fx * At(digit, x0 + 1, y0 + 1));
    }

    private static double At(ReadOnlySpan<byte> digit, int x, int y) => (uint)x < 28 && (uint)y < 28 ? digit[y * 28 + x] : 0;

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static byte Clamp(double value) => (byte)Math.Clamp(Math.Round(value), 0, 255);
}
