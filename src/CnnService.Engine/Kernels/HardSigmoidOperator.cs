using System.Runtime.Intrinsics;

namespace CnnService.Engine.Kernels;

/// <summary>
/// max(0, min(1, alpha * x + beta)), ONNX HardSigmoid. A multiply then an add on every path (no
/// fused multiply-add), so the vector paths round exactly as the scalar one does.
/// </summary>
internal readonly struct HardSigmoidOperator(float alpha, float beta) : IUnaryOperator
{
    private readonly Vector512<float> _alpha = Vector512.Create(alpha), _beta = Vector512.Create(beta);

    public float Invoke(float x) => MathF.Max(MathF.Min(alpha * x + beta, 1f), 0f);

    public Vector256<float> Invoke(Vector256<float> x) =>
        Vector256.Max(Vector256.Min(_alpha.GetLower() * x + _beta.GetLower(), Vector256<float>.One), Vector256<float>.Zero);

    public Vector512<float> Invoke(Vector512<float> x) =>
        Vector512.Max(Vector512.Min(_alpha * x + _beta, Vector512<float>.One), Vector512<float>.Zero);
}
