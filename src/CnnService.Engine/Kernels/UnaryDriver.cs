using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Kernels;

/// <summary>
/// Applies an <see cref="IUnaryOperator"/> over a span: whole vectors at the widest allowed
/// level, then the tail with the scalar path. In place is fine (y may equal x).
/// </summary>
internal static unsafe class UnaryDriver
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Apply<TOp>(in TOp op, float* x, float* y, nint length, SimdLevel level)
        where TOp : struct, IUnaryOperator
    {
        TOp f = op; // a local copy the JIT can keep in registers
        nint i = 0;
        if (level == SimdLevel.Vector512)
        {
            for (; i <= length - 16; i += 16) f.Invoke(Vector512.Load(x + i)).Store(y + i);
        }

        if (level >= SimdLevel.Vector256)
        {
            for (; i <= length - 8; i += 8) f.Invoke(Vector256.Load(x + i)).Store(y + i);
        }

        for (; i < length; i++) y[i] = f.Invoke(x[i]);
    }
}
