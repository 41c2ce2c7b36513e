using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Kernels;

/// <summary>SiLU's vector paths (their own exponential and reciprocal) and the plane sum of a global average pool, against their twins.</summary>
public unsafe class SiluAndPlaneSumTests
{
    [VectorTheory]
    [MemberData(nameof(TestModels.VectorLevels), MemberType = typeof(TestModels))]
    public void Silu_vector_paths_match_the_definition_within_a_few_ulps(SimdLevel level)
    {
        // Every value from -87 to 87 in steps of about 0.01, and the lengths leave a scalar tail.
        float[] x = Enumerable.Range(0, 17_401).Select(i => -87f + i * 0.01f).Append(0f).Append(-0f).Append(1e-30f).ToArray();
        float[] y = Apply(level, x);

        for (int i = 0; i < x.Length; i++)
        {
            double expected = x[i] / (1 + Math.Exp(-(double)x[i]));
            Assert.True(Math.Abs(y[i] - expected) <= 4e-7 * Math.Abs(expected) + 1e-30, $"silu({x[i]}) = {y[i]}, expected {expected}");
        }
    }

    [VectorTheory]
    [MemberData(nameof(TestModels.VectorLevels), MemberType = typeof(TestModels))]
    public void Silu_saturates_to_x_and_to_zero_far_out_and_passes_nan_through(SimdLevel level)
    {
        float[] x = [1e30f, float.PositiveInfinity, -1e30f, -200f, float.NaN, 100f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f];
        float[] y = Apply(level, x);

        // Far out the sigmoid is 1 to within the reciprocal's last ulp: x, or the float next to it.
        Assert.Equal(1e30f, y[0], 1e30f * 2.4e-7f);
        Assert.Equal(100f, y[5], 100f * 2.4e-7f);
        Assert.Equal(float.PositiveInfinity, y[1]);
        Assert.Equal((0f, 0f), (y[2], y[3]));   // exactly: never a tiny value that turns subnormal downstream
        Assert.True(float.IsNaN(y[4]));
    }

    [VectorTheory]
    [MemberData(nameof(TestModels.VectorLevels), MemberType = typeof(TestModels))]
    public void The_plane_sum_matches_its_double_precision_twin(SimdLevel level)
    {
        foreach (int length in new[] { 1, 7, 8, 15, 16, 17, 49, 63, 64, 65, 196, 784, 3136, 12544 })
        {
            float[] x = TestModels.Random(length, seed: length, scale: 3f);
            fixed (float* p = x)
            {
                float expected = PlaneSum.SumScalar(p, length), actual = PlaneSum.Sum(level, p, length);
                Assert.True(MathF.Abs(expected - actual) <= 1e-5f * MathF.Max(1f, length), $"length {length}: {actual}, expected {expected}");
            }
        }
    }

    private static float[] Apply(SimdLevel level, float[] x)
    {
        var y = new float[x.Length];
        fixed (float* p = x, q = y) UnaryDriver.Apply(new SiluOperator(), p, q, x.Length, level);
        return y;
    }
}
