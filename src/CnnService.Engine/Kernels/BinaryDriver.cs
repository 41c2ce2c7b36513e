using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Kernels;

/// <summary>
/// Applies an <see cref="IBinaryOperator"/> along one contiguous run: both operands contiguous
/// (same shape), or one of them a single value repeated over the run (a per-channel or scalar
/// operand). Whole vectors at the widest allowed level, then the tail with the scalar path.
/// In place is fine (y may equal x or y).
/// </summary>
internal static unsafe class BinaryDriver
{
    /// <summary>y[i] = x[i] op z[i].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Apply<TOp>(float* x, float* z, float* y, nint length, SimdLevel level)
        where TOp : IBinaryOperator
    {
        nint i = 0;
        if (level == SimdLevel.Vector512)
        {
            for (; i <= length - 16; i += 16) TOp.Invoke(Vector512.Load(x + i), Vector512.Load(z + i)).Store(y + i);
        }

        if (level >= SimdLevel.Vector256)
        {
            for (; i <= length - 8; i += 8) TOp.Invoke(Vector256.Load(x + i), Vector256.Load(z + i)).Store(y + i);
        }

        for (; i < length; i++) y[i] = TOp.Invoke(x[i], z[i]);
    }

    /// <summary>y[i] = x[i] op s.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ApplyRight<TOp>(float* x, float s, float* y, nint length, SimdLevel level)
        where TOp : IBinaryOperator
    {
        nint i = 0;
        if (level == SimdLevel.Vector512)
        {
            var v = Vector512.Create(s);
            for (; i <= length - 16; i += 16) TOp.Invoke(Vector512.Load(x + i), v).Store(y + i);
        }

        if (level >= SimdLevel.Vector256)
        {
            var v = Vector256.Create(s);
            for (; i <= length - 8; i += 8) TOp.Invoke(Vector256.Load(x + i), v).Store(y + i);
        }

        for (; i < length; i++) y[i] = TOp.Invoke(x[i], s);
    }

    /// <summary>y[i] = s op z[i].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ApplyLeft<TOp>(float s, float* z, float* y, nint length, SimdLevel level)
        where TOp : IBinaryOperator
    {
        nint i = 0;
        if (level == SimdLevel.Vector512)
        {
            var v = Vector512.Create(s);
            for (; i <= length - 16; i += 16) TOp.Invoke(v, Vector512.Load(z + i)).Store(y + i);
        }

        if (level >= SimdLevel.Vector256)
        {
            var v = Vector256.Create(s);
            for (; i <= length - 8; i += 8) TOp.Invoke(v, Vector256.Load(z + i)).Store(y + i);
        }

        for (; i < length; i++) y[i] = TOp.Invoke(s, z[i]);
    }
}
