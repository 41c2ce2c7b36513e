using CnnService.Imaging;

namespace CnnService.Tests.Imaging;

/// <summary>The vector row loops of preprocessing give their scalar twins' bits: a request's pixels do not depend on the CPU.</summary>
public sealed class RowArithmeticTests
{
    // Around the vector width (8) and the sizes preprocessing meets (a 28-pixel row, a 224-pixel one).
    public static TheoryData<int> Lengths => new() { 0, 1, 7, 8, 9, 15, 16, 17, 28, 31, 33, 224, 1000 };

    [Theory]
    [MemberData(nameof(Lengths))]
    public void AddScaled_gives_its_scalar_twins_bits(int length)
    {
        var random = new Random(length);
        float[] input = Values(random, length, 255), start = Values(random, length, 1000);
        float[] vector = (float[])start.Clone(), scalar = (float[])start.Clone();
        float weight = (float)random.NextDouble();

        for (int k = 0; k < 5; k++) // a column pass adds several rows into one
        {
            RowArithmetic.AddScaled(vector, input, weight);
            RowArithmetic.AddScaledScalar(scalar, input, weight);
        }

        AssertSameBits(scalar, vector);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Max_gives_its_scalar_twins_value(int length)
    {
        float[] values = Values(new Random(length), length, 300);

        Assert.Equal(BitConverter.SingleToInt32Bits(RowArithmetic.MaxScalar(values)), BitConverter.SingleToInt32Bits(RowArithmetic.Max(values)));
    }

    [Fact]
    public void Max_finds_the_largest_value_wherever_it_lies()
    {
        for (int at = 0; at < 19; at++)
        {
            var values = new float[19];
            values[at] = 7.5f;
            Assert.Equal(7.5f, RowArithmetic.Max(values));
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void StretchToWhole_gives_its_scalar_twins_bits(int length)
    {
        float[] values = Values(new Random(length), length, 200);
        float stretch = 255f / Math.Max(1f, RowArithmetic.MaxScalar(values));
        float[] vector = (float[])values.Clone(), scalar = (float[])values.Clone();

        RowArithmetic.StretchToWhole(vector, stretch);
        RowArithmetic.StretchToWholeScalar(scalar, stretch);

        AssertSameBits(scalar, vector);
    }

    [Fact]
    public void StretchToWhole_rounds_halves_to_even_and_caps_at_255()
    {
        float[] values = [0.5f, 1.5f, 2.5f, 3.49f, 127.5f, 128.5f, 254.5f, 255.5f, 300f, 0f, 41.7f, 99.5f, 100.5f, 0.25f, 12.5f, 13.5f, 200.2f];

        RowArithmetic.StretchToWhole(values, 1f);

        Assert.Equal([0f, 2f, 2f, 3f, 128f, 128f, 254f, 255f, 255f, 0f, 42f, 100f, 100f, 0f, 12f, 14f, 200f], values);
    }

    /// <summary>Non-negative values below <paramref name="top"/>, a third of them 0 (a digit's background), some with fractions that round at .5.</summary>
    private static float[] Values(Random random, int length, float top)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = random.Next(3) switch
            {
                0 => 0f,
                1 => random.Next((int)top) + 0.5f,
                _ => (float)(random.NextDouble() * top),
            };
        }

        return values;
    }

    private static void AssertSameBits(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"element {i}: {expected[i]:R} against {actual[i]:R}");
    }
}
