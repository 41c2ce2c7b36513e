using System.Runtime.Intrinsics;

namespace CnnService.Engine.Kernels;

/// <summary>
/// An elementwise function with a scalar, a Vector256 and a Vector512 path that agree. Implemented
/// by readonly structs, so <see cref="UnaryDriver"/> is specialised for each and the calls inline;
/// a function with settings (clip's bounds) keeps them, already broadcast, in the struct's fields.
/// </summary>
internal interface IUnaryOperator
{
    float Invoke(float x);
    Vector256<float> Invoke(Vector256<float> x);
    Vector512<float> Invoke(Vector512<float> x);
}
