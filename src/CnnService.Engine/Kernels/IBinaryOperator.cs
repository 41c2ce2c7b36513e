using System.Runtime.Intrinsics;

namespace CnnService.Engine.Kernels;

/// <summary>An elementwise function of two values (left, right) with a scalar, a Vector256 and a Vector512 path that agree.</summary>
internal interface IBinaryOperator
{
    static abstract float Invoke(float x, float y);
    static abstract Vector256<float> Invoke(Vector256<float> x, Vector256<float> y);
    static abstract Vector512<float> Invoke(Vector512<float> x, Vector512<float> y);
}
