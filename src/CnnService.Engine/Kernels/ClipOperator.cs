using System.Runtime.Intrinsics;

namespace CnnService.Engine.Kernels;

/// <summary>
/// min(max(x, lo), hi), as ONNX Clip and numpy.clip: a bound of infinity is no bound, NaN stays NaN
/// (MathF.Max/Min and Vector.Max/Min both propagate it), and lo above hi gives hi everywhere.
/// The bounds are broadcast once, here, not on every call.
/// </summary>
internal readonly struct ClipOperator(float lo, float hi) : IUnaryOperator
{
    private readonly Vector512<float> _lo = Vector512.Create(lo), _hi = Vector512.Create(hi);

    public float Invoke(float x) => MathF.Min(MathF.Max(x, lo), hi);
    public Vector256<float> Invoke(Vector256<float> x) => Vector256.Min(Vector256.Max(x, _lo.GetLower()), _hi.GetLower());
    public Vector512<float> Invoke(Vector512<float> x) => Vector512.Min(Vector512.Max(x, _lo), _hi);
}
