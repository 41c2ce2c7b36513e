using CnnService.Engine.Runtime;

namespace CnnService.Engine.Tests.Support;

/// <summary>
/// A fact about one SIMD level's kernels or plans, skipped (and reported so) on a CPU that does not run that level:
/// an AVX2-only CPU has no Vector512 path, a CPU without AVX2 and FMA runs the scalar twins alone.
/// </summary>
public sealed class SimdFactAttribute : FactAttribute
{
    public SimdFactAttribute(SimdLevel level)
    {
        if (!Simd.IsSupported(level)) Skip = SimdSkip.Reason(level);
    }
}

/// <summary>A theory about one SIMD level, skipped as <see cref="SimdFactAttribute"/> is.</summary>
public sealed class SimdTheoryAttribute : TheoryAttribute
{
    public SimdTheoryAttribute(SimdLevel level)
    {
        if (!Simd.IsSupported(level)) Skip = SimdSkip.Reason(level);
    }
}

/// <summary>
/// A theory over the vector levels this CPU runs (<see cref="TestModels.VectorLevels"/>, or a table built from them):
/// skipped on a CPU that runs none, where its data would be empty and xunit would fail it for that.
/// </summary>
public sealed class VectorTheoryAttribute : TheoryAttribute
{
    public VectorTheoryAttribute()
    {
        if (!Simd.IsSupported(SimdLevel.Vector256)) Skip = SimdSkip.Reason(SimdLevel.Vector256);
    }
}

internal static class SimdSkip
{
    public static string Reason(SimdLevel level) =>
        $"this CPU does not run {level} (Simd.Best is {Simd.Best}): the level's kernels are tested where it runs";
}
