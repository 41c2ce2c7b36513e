using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnService.Engine.Kernels;

/// <summary>
/// min(max(x, lo), hi), as ONNX Clip and numpy.clip: a bound of infinity is no bound, NaN stays NaN,
/// and lo above hi gives hi everywhere. Written as x86's vmaxps/vminps compute it ("a op b ? a : b",
/// NaN taking b), with x second, so NaN passes through in one instruction per bound: .NET's
/// Vector512.Max/Min also order -0 below +0, which costs three instructions each and is the only
/// difference (clip(-0, 0, 6) is -0 here, +0 there; the two compare equal). The scalar twin is
/// the same ternaries. The bounds are broadcast once, here, not on every call.
/// </summary>
internal readonly struct ClipOperator(float lo, float hi) : IUnaryOperator
{
    private readonly Vector512<float> _lo = Vector512.Create(lo), _hi = Vector512.Create(hi);

    public float Invoke(float x)
    {
        float m = lo > x ? lo : x;
        return hi < m ? hi : m;
    }

    public Vector256<float> Invoke(Vector256<float> x)
    {
        return Apply(x, _lo.GetLower(), _hi.GetLower());
    }

    public Vector512<float> Invoke(Vector512<float> x) => Apply(x, _lo, _hi);

    /// <summary>The Vector256 path with the bounds given broadcast, for a kernel that keeps them in registers itself.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Apply(Vector256<float> x, Vector256<float> lo, Vector256<float> hi)
    {
        if (Avx.IsSupported) return Avx.Min(hi, Avx.Max(lo, x));
        Vector256<float> m = Vector256.ConditionalSelect(Vector256.GreaterThan(lo, x), lo, x);
        return Vector256.ConditionalSelect(Vector256.LessThan(hi, m), hi, m);
    }

    /// <summary>The Vector512 path with the bounds given broadcast, for a kernel that keeps them in registers itself.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Apply(Vector512<float> x, Vector512<float> lo, Vector512<float> hi)
    {
        if (Avx512F.IsSupported) return Avx512F.Min(hi, Avx512F.Max(lo, x));
        Vector512<float> m = Vector512.ConditionalSelect(Vector512.GreaterThan(lo, x), lo, x);
        return Vector512.ConditionalSelect(Vector512.LessThan(hi, m), hi, m);
    }
}
