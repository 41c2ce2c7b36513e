using System.Runtime.Intrinsics;

namespace CnnService.Engine.Kernels;

/// <summary>An elementwise function with a scalar, a Vector256 and a Vector512 path that agree.</summary>
internal interface IUnaryOperator
{
    static abstract float Invoke(float x);
    static abstract Vector256<float> Invoke(Vector256<float> x);
    static abstract Vector512<float> Invoke(Vector512<float> x);
}
