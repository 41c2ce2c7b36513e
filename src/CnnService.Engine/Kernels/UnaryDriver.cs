using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Kernels;

/// <summary>
/// Applies an <see cref="IUnaryOperator"/> over a span: whole vectors at the level asked for, and the tail as one
/// more vector of that width, masked (zeros in, nothing stored past the end), so every element takes the same path
/// wherever it falls. The scalar and vector exp round differently, and a value must not change because a batch was
/// cut into chunks (or a layer into threads) at another place. The scalar level runs the scalar path throughout.
/// In place is fine (y may equal x).
/// </summary>
internal static unsafe class UnaryDriver
{
    public static void Apply<TOp>(in TOp op, float* x, float* y, nint length, SimdLevel level)
        where TOp : struct, IUnaryOperator
    {
        if (level == SimdLevel.Vector512)
        {
            Apply<TOp, Vector512<float>, Lanes512>(op, x, y, length);
        }
        else if (level == SimdLevel.Vector256)
        {
            Apply<TOp, Vector256<float>, Lanes256>(op, x, y, length);
        }
        else
        {
            TOp f = op;
            for (nint i = 0; i < length; i++) y[i] = f.Invoke(x[i]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Apply<TOp, TV, TLanes>(in TOp op, float* x, float* y, nint length)
        where TOp : struct, IUnaryOperator
        where TV : struct
        where TLanes : ILanes<TV>
    {
        TOp f = op; // a local copy the JIT can keep in registers
        nint i = 0;
        for (; i <= length - TLanes.Count; i += TLanes.Count) TLanes.Store(y + i, TLanes.Apply(f, TLanes.Load(x + i)));
        if (i == length) return;
        int count = (int)(length - i);
        TLanes.StoreFirst(y + i, TLanes.Apply(f, TLanes.LoadFirst(x + i, count)), count);
    }
}
