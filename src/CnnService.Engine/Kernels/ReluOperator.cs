using System.Runtime.Intrinsics;

namespace CnnService.Engine.Kernels;

/// <summary>max(x, 0), the IEEE maximum as .NET's Max computes it: NaN stays NaN (as PyTorch's relu and a ReLU fused as a
/// clip keep it) and -0 gives +0, in the scalar twin as in the vector paths.</summary>
internal readonly struct ReluOperator : IUnaryOperator
{
    public float Invoke(float x) => MathF.Max(x, 0f);
    public Vector256<float> Invoke(Vector256<float> x) => Vector256.Max(x, Vector256<float>.Zero);
    public Vector512<float> Invoke(Vector512<float> x) => Vector512.Max(x, Vector512<float>.Zero);
}
