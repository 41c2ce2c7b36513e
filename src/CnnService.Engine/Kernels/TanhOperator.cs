using System.Runtime.Intrinsics;

namespace CnnService.Engine.Kernels;

/// <summary>
/// tanh(x) = 1 - 2 / (e^(2x) + 1): one exponential, and it saturates cleanly to +-1 when e^(2x)
/// overflows to infinity or underflows to 0. Its absolute error near 0 is about 1e-7.
/// </summary>
internal readonly struct TanhOperator : IUnaryOperator
{
    public float Invoke(float x) => 1f - 2f / (MathF.Exp(2f * x) + 1f);

    public Vector256<float> Invoke(Vector256<float> x) =>
        Vector256<float>.One - Vector256.Create(2f) / (Vector256.Exp(x + x) + Vector256<float>.One);

    public Vector512<float> Invoke(Vector512<float> x) =>
        Vector512<float>.One - Vector512.Create(2f) / (Vector512.Exp(x + x) + Vector512<float>.One);
}
