using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Kernels;

/// <summary>tanh's and the sigmoid's vector paths (tanh's rational fit, the sigmoid's own exponential and reciprocal) against the definitions.</summary>
public unsafe class TanhAndSigmoidTests
{
    // Every value from -12 to 12 in steps of about 0.001 (across saturation at +-9.02), tiny ones where a form
    // 1 - 2 / (e^2x + 1) would lose every digit, and a length that leaves a tail.
    private static readonly float[] Grid =
        Enumerable.Range(0, 24_001).Select(i => -12f + i * 0.001f).Concat([9.02f, -9.02f, 9.019999f, 9.011f, 1e-3f, -1e-5f, 3e-8f, 1e-30f]).ToArray();

    [VectorTheory]
    [MemberData(nameof(TestModels.VectorLevels), MemberType = typeof(TestModels))]
    public void Tanh_vector_paths_are_within_five_ulps_of_the_definition(SimdLevel level)
    {
        float[] y = Apply(new TanhOperator(), level, Grid);

        for (int i = 0; i < Grid.Length; i++)
        {
            float expected = (float)Math.Tanh(Grid[i]);
            int ulps = Math.Abs(BitConverter.SingleToInt32Bits(y[i]) - BitConverter.SingleToInt32Bits(expected));
            Assert.True(ulps <= 5, $"tanh({Grid[i]:R}) = {y[i]:R}, expected {expected:R} ({ulps} ulps away)");
        }
    }

    [VectorTheory]
    [MemberData(nameof(TestModels.VectorLevels), MemberType = typeof(TestModels))]
    public void Tanh_is_odd_reaches_exactly_one_far_out_and_passes_nan_through(SimdLevel level)
    {
        float[] x = [1e30f, float.PositiveInfinity, -1e30f, float.NegativeInfinity, 9.02f, -20f, float.NaN, 0f, -0f, 0.3f, -0.3f, 2f, -2f];
        float[] y = Apply(new TanhOperator(), level, x);

        Assert.Equal([1f, 1f, -1f, -1f, 1f, -1f], y[..6]);
        Assert.True(float.IsNaN(y[6]));
        Assert.Equal((0f, -0f), (y[7], y[8]));   // -0 keeps its sign, as MathF.Tanh's does
        Assert.True(float.IsNegative(y[8]));
        Assert.Equal((-y[9], -y[11]), (y[10], y[12]));
    }

    [VectorTheory]
    [MemberData(nameof(TestModels.VectorLevels), MemberType = typeof(TestModels))]
    public void Sigmoid_vector_paths_match_the_definition_within_a_few_ulps(SimdLevel level)
    {
        float[] x = Enumerable.Range(0, 17_401).Select(i => -87f + i * 0.01f).Append(0f).Append(1e-30f).ToArray();
        float[] y = Apply(new SigmoidOperator(), level, x);

        for (int i = 0; i < x.Length; i++)
        {
            double expected = 1 / (1 + Math.Exp(-(double)x[i]));
            Assert.True(Math.Abs(y[i] - expected) <= 4e-7 * expected, $"sigmoid({x[i]:R}) = {y[i]:R}, expected {expected:R}");
        }
    }

    [VectorTheory]
    [MemberData(nameof(TestModels.VectorLevels), MemberType = typeof(TestModels))]
    public void Sigmoid_saturates_to_one_and_to_exactly_zero_and_passes_nan_through(SimdLevel level)
    {
        float[] x = [1e30f, float.PositiveInfinity, 100f, -1e30f, float.NegativeInfinity, -88f, float.NaN, 0f];
        float[] y = Apply(new SigmoidOperator(), level, x);

        Assert.Equal([1f, 1f, 1f], y[..3]);
        Assert.Equal([0f, 0f, 0f], y[3..6]);   // exactly: never a tiny value that turns subnormal downstream
        Assert.True(float.IsNaN(y[6]));
        Assert.Equal(0.5f, y[7]);
    }

    private static float[] Apply<TOp>(TOp op, SimdLevel level, float[] x) where TOp : struct, IUnaryOperator
    {
        var y = new float[x.Length];
        fixed (float* p = x, q = y) UnaryDriver.Apply(op, p, q, x.Length, level);
        return y;
    }
}
