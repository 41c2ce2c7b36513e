using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnService.Engine.Kernels;

/// <summary>
/// x * sigmoid(x) = x / (1 + e^-x) (SiLU, swish; EfficientNet's activation, exported as Sigmoid then Mul).
/// The vector paths use <see cref="FastExp"/>, several times cheaper than the runtime's Vector.Exp, which
/// works in double precision, and (sixteen lanes) a reciprocal estimate refined by a Newton step rather than a division;
/// the scalar twin uses MathF.Exp and a division. They agree within a few float ulps. Below x = -87 the
/// vector paths give exactly 0, as the twin does below -88.7 (x / infinity), rather than x / e^87: such a
/// tiny value, scaled by a squeeze-and-excite gate, turns subnormal and slows the next convolution's every
/// multiply-add that reads it. -infinity gives 0 there (x * sigmoid(x) is NaN); NaN stays NaN.
/// </summary>
/// <remarks>Only x above 87 is clamped (e^-x stays normal); below -87 e^-x may overflow, and those lanes are zeroed
/// anyway. One clamp, no negations and a blend: 20 vector instructions where the first form took 24 (two clamps, two
/// negations, a mask turned into a vector and an and). The arithmetic, not memory, sets SiLU's speed: on AMD Zen 5
/// 96 x 112 x 112 values went from 0.250 to 0.216 ms (ONNX Runtime 0.166), and EfficientNet-B0's first depthwise
/// block, which applies it while it pads, from 0.91 to 0.75 ms. The eight-lane path divides instead of refining the
/// reciprocal estimate: one instruction for three, 13 % faster over 96 x 112 x 112 values on AMD EPYC Zen 3 (4.97 against
/// 5.73 ns a vector), its quotient correctly rounded.</remarks>
internal readonly struct SiluOperator : IUnaryOperator
{
    public float Invoke(float x) => x / (1f + MathF.Exp(-x));

    /// <summary>Applied apart (<see cref="IUnaryOperator.OwnPass"/>): in the depthwise kernels' four-output tiles and eight-plane
    /// transposes it cost 1-1.7 ns a value against 0.55 alone. Apart, EfficientNet-B0's depthwise layers ran 1.14-1.72x as fast
    /// and the network 1.12x (18.8 -> 16.8 ms; ONNX Runtime 16.0), one thread, AMD EPYC Zen 3, alternated in one process.</summary>
    public static bool OwnPass => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> x)
    {
        Vector256<float> held = Avx.IsSupported ? Avx.Min(Vector256.Create(FastExp.Hi), x) : Vector256.Min(x, Vector256.Create(FastExp.Hi)); // NaN stays NaN
        Vector256<float> s = x / (Vector256<float>.One + FastExp.ExpNegated(held)); // a division here: see the remarks
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(FastExp.Lo)), Vector256<float>.Zero, s);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> x)
    {
        Vector512<float> held = Avx512F.IsSupported ? Avx512F.Min(Vector512.Create(FastExp.Hi), x) : Vector512.Min(x, Vector512.Create(FastExp.Hi)); // NaN stays NaN
        Vector512<float> s = x * FastExp.Reciprocal(Vector512<float>.One + FastExp.ExpNegated(held));
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(FastExp.Lo)), Vector512<float>.Zero, s);
    }
}

/// <summary>
/// e^-x in single precision (Cephes expf: -x = n ln2 + r, |r| &lt;= ln2/2, a degree-5 polynomial for e^r,
/// then 2^n through the exponent bits), within 2 ulps of the true value, for x up to 87: the caller holds x
/// there, so e^-x is never below 1.6e-38 and never subnormal. That matters: every subnormal operand or result
/// costs a microcode assist, and one in the hot loop made SiLU twenty times slower on inputs above 88.
/// It is Cephes' e^r with r's sign folded into the constants (x + n ln2 = -r, and the polynomial's odd
/// coefficients negated): the same products and roundings, so the same bits, without negating x first.
/// NaN stays NaN.
/// </summary>
internal static class FastExp
{
    /// <summary>
    /// 1 / d for d in [1, 6.1e37]: the hardware estimate (14 bits) and one Newton step, to within an ulp or two.
    /// A vector division costs several times as much, and here it, not memory, would set the speed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Reciprocal(Vector512<float> d)
    {
        if (!Avx512F.IsSupported) return Vector512<float>.One / d;
        Vector512<float> r = Avx512F.Reciprocal14(d);
        return Vector512.FusedMultiplyAdd(r, Avx512F.FusedMultiplyAddNegated(d, r, Vector512<float>.One), r);
    }

    /// <summary>As above; the 8-lane estimate has 12 bits, and one Newton step still leaves a couple of ulps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Reciprocal(Vector256<float> d)
    {
        if (!Avx.IsSupported || !Fma.IsSupported) return Vector256<float>.One / d;
        Vector256<float> r = Avx.Reciprocal(d);
        return Vector256.FusedMultiplyAdd(r, Fma.MultiplyAddNegated(d, r, Vector256<float>.One), r);
    }

    public const float Lo = -87f, Hi = 87f;
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440e-4f;
    private const float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f;
    private const float P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    /// <summary>e^-x for x &lt;= <see cref="Hi"/> (above -88.7 finite; below, whatever the caller masks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ExpNegated(Vector512<float> x)
    {
        Vector512<float> n = Vector512.Round(x * Vector512.Create(-Log2E));
        Vector512<float> q = Vector512.FusedMultiplyAdd(n, Vector512.Create(Ln2Hi), x);   // q = -r
        q = Vector512.FusedMultiplyAdd(n, Vector512.Create(Ln2Lo), q);
        Vector512<float> p = Vector512.FusedMultiplyAdd(Vector512.Create(-P0), q, Vector512.Create(P1));
        p = Vector512.FusedMultiplyAdd(p, q, Vector512.Create(-P2));
        p = Vector512.FusedMultiplyAdd(p, q, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(p, q, Vector512.Create(-P4));
        p = Vector512.FusedMultiplyAdd(p, q, Vector512.Create(P5));
        p = Vector512.FusedMultiplyAdd(p, q * q, Vector512<float>.One - q);
        // p * 2^n in one instruction where AVX-512 has it (the same value: n is whole and within the normal exponents);
        // the runtime's saturating ConvertToInt32 alone costs several.
        if (Avx512F.IsSupported) return Avx512F.Scale(p, n);
        Vector512<int> bits = Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23);
        return p * bits.AsSingle();
    }

    /// <summary>As above, eight lanes (no scale instruction in AVX2: the exponent bits directly, n converted by the plain
    /// truncating instruction: n is whole, and a NaN lane's garbage exponent still multiplies a NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ExpNegated(Vector256<float> x)
    {
        Vector256<float> n = Vector256.Round(x * Vector256.Create(-Log2E));
        Vector256<float> q = Vector256.FusedMultiplyAdd(n, Vector256.Create(Ln2Hi), x);
        q = Vector256.FusedMultiplyAdd(n, Vector256.Create(Ln2Lo), q);
        Vector256<float> p = Vector256.FusedMultiplyAdd(Vector256.Create(-P0), q, Vector256.Create(P1));
        p = Vector256.FusedMultiplyAdd(p, q, Vector256.Create(-P2));
        p = Vector256.FusedMultiplyAdd(p, q, Vector256.Create(P3));
        p = Vector256.FusedMultiplyAdd(p, q, Vector256.Create(-P4));
        p = Vector256.FusedMultiplyAdd(p, q, Vector256.Create(P5));
        p = Vector256.FusedMultiplyAdd(p, q * q, Vector256<float>.One - q);
        Vector256<int> whole = Avx.IsSupported ? Avx.ConvertToVector256Int32WithTruncation(n) : Vector256.ConvertToInt32(n);
        Vector256<int> bits = Vector256.ShiftLeft(whole + Vector256.Create(127), 23);
        return p * bits.AsSingle();
    }
}

/// <summary>x: no activation, for kernels generic over the one they fuse.</summary>
internal readonly struct IdentityOperator : IUnaryOperator
{
    public float Invoke(float x) => x;
    public Vector256<float> Invoke(Vector256<float> x) => x;
    public Vector512<float> Invoke(Vector512<float> x) => x;
}
