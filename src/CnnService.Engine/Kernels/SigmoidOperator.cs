using System.Runtime.Intrinsics;

namespace CnnService.Engine.Kernels;

/// <summary>1 / (1 + e^-x). For large |x| e^-x saturates to 0 or +inf, and so the result to 1 or 0, never NaN.</summary>
internal readonly struct SigmoidOperator : IUnaryOperator
{
    public float Invoke(float x) => 1f / (1f + MathF.Exp(-x));
    public Vector256<float> Invoke(Vector256<float> x) => Vector256<float>.One / (Vector256<float>.One + Vector256.Exp(-x));
    public Vector512<float> Invoke(Vector512<float> x) => Vector512<float>.One / (Vector512<float>.One + Vector512.Exp(-x));
}
