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

    /// <summary>
    /// Whether a kernel that fuses it applies it in a pass of its own over a buffer it has just written, rather than to each
    /// register tile on its way out. A cheap function (a clamp) costs nothing in a tile; one of twenty-odd instructions (SiLU's
    /// exp) in a tile's loop, eight or four at a time, spills registers and crowds out the loop's own work, and alone over a
    /// buffer in cache it runs at its own speed.
    /// </summary>
    static virtual bool OwnPass => false;
}
