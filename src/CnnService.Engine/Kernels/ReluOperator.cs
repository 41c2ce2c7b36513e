using System.Runtime.Intrinsics;

namespace CnnService.Engine.Kernels;

/// <summary>max(x, 0).</summary>
internal readonly struct ReluOperator : IUnaryOperator
{
    public float Invoke(float x) => x > 0f ? x : 0f;
    public Vector256<float> Invoke(Vector256<float> x) => Vector256.Max(x, Vector256<float>.Zero);
    public Vector512<float> Invoke(Vector512<float> x) => Vector512.Max(x, Vector512<float>.Zero);
}
