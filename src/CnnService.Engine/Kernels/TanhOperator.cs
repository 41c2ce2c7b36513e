using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnService.Engine.Kernels;

/// <summary>
/// tanh(x), as Cephes' tanhf computes it: below |x| = 0.625 an odd polynomial, x + x^3 P(x^2), and above it
/// 1 - 2 / (e^(2|x|) + 1), |x| held at 10, where tanh rounds to 1 in single precision. Both are computed on |x|,
/// one kept per lane, and x's sign put back. Within a few float ulps of the true value everywhere: the polynomial
/// keeps the relative precision that 1 - 2 / (e^(2x) + 1) alone lost near 0. NaN stays NaN; the scalar twin is
/// MathF.Tanh.
/// </summary>
/// <remarks>The vector paths take <see cref="FastExp"/> and its reciprocal, as SiLU does: the runtime's Vector.Exp works
/// in double precision, and with a division it made LeNet-5's tanh layers 18 % of its pass on AMD Zen 4 (64 x 6 x 28 x 28
/// values: 0.222 ms, now 0.136).</remarks>
internal readonly struct TanhOperator : IUnaryOperator
{
    private const float Small = 0.625f, Saturated = 10f;
    private const float P0 = -5.70498872745e-3f, P1 = 2.06390887954e-2f, P2 = -5.37397155531e-2f;
    private const float P3 = 1.33314422036e-1f, P4 = -3.33332819422e-1f;

    public float Invoke(float x) => MathF.Tanh(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> x)
    {
        Vector256<float> a = Vector256.Abs(x);
        Vector256<float> held = Avx.IsSupported ? Avx.Min(Vector256.Create(Saturated), a) : Vector256.Min(a, Vector256.Create(Saturated)); // NaN stays NaN
        Vector256<float> r = FastExp.Reciprocal(FastExp.ExpNegated(held * Vector256.Create(-2f)) + Vector256<float>.One);
        Vector256<float> large = Vector256.FusedMultiplyAdd(Vector256.Create(-2f), r, Vector256<float>.One);

        Vector256<float> z = a * a;
        Vector256<float> p = Vector256.FusedMultiplyAdd(Vector256.Create(P0), z, Vector256.Create(P1));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(P2));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(P3));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(P4));
        Vector256<float> small = Vector256.FusedMultiplyAdd(p * z, a, a);
        Vector256<float> magnitude = Vector256.ConditionalSelect(Vector256.LessThan(a, Vector256.Create(Small)), small, large);
        return Vector256.ConditionalSelect(Vector256.Create(-0f), x, magnitude);   // x's sign bit (so -0 stays -0), the rest from tanh |x|
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> x)
    {
        Vector512<float> a = Vector512.Abs(x);
        Vector512<float> held = Avx512F.IsSupported ? Avx512F.Min(Vector512.Create(Saturated), a) : Vector512.Min(a, Vector512.Create(Saturated)); // NaN stays NaN
        Vector512<float> r = FastExp.Reciprocal(FastExp.ExpNegated(held * Vector512.Create(-2f)) + Vector512<float>.One);
        Vector512<float> large = Vector512.FusedMultiplyAdd(Vector512.Create(-2f), r, Vector512<float>.One);

        Vector512<float> z = a * a;
        Vector512<float> p = Vector512.FusedMultiplyAdd(Vector512.Create(P0), z, Vector512.Create(P1));
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(P4));
        Vector512<float> small = Vector512.FusedMultiplyAdd(p * z, a, a);
        Vector512<float> magnitude = Vector512.ConditionalSelect(Vector512.LessThan(a, Vector512.Create(Small)), small, large);
        return Vector512.ConditionalSelect(Vector512.Create(-0f), x, magnitude);   // x's sign bit (so -0 stays -0), the rest from tanh |x|
    }
}
