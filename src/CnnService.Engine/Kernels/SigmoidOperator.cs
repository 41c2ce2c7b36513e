using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnService.Engine.Kernels;

/// <summary>
/// 1 / (1 + e^-x). The vector paths take <see cref="FastExp"/>, as SiLU does, not the runtime's double-precision
/// Vector.Exp; within a few float ulps of the scalar twin. A division, not SiLU's reciprocal estimate, so that far out
/// the result is exactly 1 (the 8-lane estimate and its Newton step leave 1 - 2^-24). x is held at 87 (the
/// result is 1 long before), and below -87 the result is exactly 0, never a value that turns subnormal downstream
/// (the twin gives at most 1.6e-38 there). NaN stays NaN.
/// </summary>
internal readonly struct SigmoidOperator : IUnaryOperator
{
    public float Invoke(float x) => 1f / (1f + MathF.Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> x)
    {
        Vector256<float> held = Avx.IsSupported ? Avx.Min(Vector256.Create(FastExp.Hi), x) : Vector256.Min(x, Vector256.Create(FastExp.Hi)); // NaN stays NaN
        Vector256<float> s = Vector256<float>.One / (Vector256<float>.One + FastExp.ExpNegated(held));
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(FastExp.Lo)), Vector256<float>.Zero, s);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> x)
    {
        Vector512<float> held = Avx512F.IsSupported ? Avx512F.Min(Vector512.Create(FastExp.Hi), x) : Vector512.Min(x, Vector512.Create(FastExp.Hi)); // NaN stays NaN
        Vector512<float> s = Vector512<float>.One / (Vector512<float>.One + FastExp.ExpNegated(held));
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(FastExp.Lo)), Vector512<float>.Zero, s);
    }
}
