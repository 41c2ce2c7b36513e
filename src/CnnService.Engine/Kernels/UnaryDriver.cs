using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Kernels;

/// <summary>
/// Applies an <see cref="IUnaryOperator"/> over a span: whole vectors at the level asked for, and the tail as one
/// more vector of that width through a small buffer, so every element takes the same path wherever it falls. The
/// scalar and vector exp round differently, and a value must not change because a batch was cut into chunks (or
/// a layer into threads) at another place. The scalar level runs the scalar path throughout. In place is fine (y may equal x).
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
            if (i < length) Tail512(f, x + i, y + i, (int)(length - i));
            return;
        }

        if (level == SimdLevel.Vector256)
        {
            for (; i <= length - 8; i += 8) f.Invoke(Vector256.Load(x + i)).Store(y + i);
            if (i < length) Tail256(f, x + i, y + i, (int)(length - i));
            return;
        }

        for (; i < length; i++) y[i] = f.Invoke(x[i]);
    }

    /// <summary>The last <paramref name="count"/> (under 16) elements as one Vector512, padded with zeros that are never stored.</summary>
    private static void Tail512<TOp>(TOp f, float* x, float* y, int count)
        where TOp : struct, IUnaryOperator
    {
        float* buffer = stackalloc float[16];
        Vector512<float>.Zero.Store(buffer);
        new ReadOnlySpan<float>(x, count).CopyTo(new Span<float>(buffer, count));
        f.Invoke(Vector512.Load(buffer)).Store(buffer);
        new ReadOnlySpan<float>(buffer, count).CopyTo(new Span<float>(y, count));
    }

    /// <summary>The last <paramref name="count"/> (under 8) elements as one Vector256, padded with zeros that are never stored.</summary>
    private static void Tail256<TOp>(TOp f, float* x, float* y, int count)
        where TOp : struct, IUnaryOperator
    {
        float* buffer = stackalloc float[8];
        Vector256<float>.Zero.Store(buffer);
        new ReadOnlySpan<float>(x, count).CopyTo(new Span<float>(buffer, count));
        f.Invoke(Vector256.Load(buffer)).Store(buffer);
        new ReadOnlySpan<float>(buffer, count).CopyTo(new Span<float>(y, count));
    }
}
