using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnService.Engine.Runtime;

/// <summary>Which instruction set the kernels use. Tests force each level to compare the SIMD paths with their scalar twins.</summary>
public enum SimdLevel
{
    Scalar,
    Vector256,
    Vector512,
}

public static class Simd
{
    /// <summary>The widest level this CPU runs at full speed (Vector512 on Zen 4/5 and AVX-512 Intel parts).</summary>
    public static SimdLevel Best { get; } =
        Vector512.IsHardwareAccelerated ? SimdLevel.Vector512
        : Vector256.IsHardwareAccelerated && Fma.IsSupported ? SimdLevel.Vector256
        : SimdLevel.Scalar;

    public static bool IsSupported(SimdLevel level) => level switch
    {
        SimdLevel.Scalar => true,
        SimdLevel.Vector256 => Vector256.IsHardwareAccelerated,
        SimdLevel.Vector512 => Vector512.IsHardwareAccelerated,
        _ => false,
    };
}
