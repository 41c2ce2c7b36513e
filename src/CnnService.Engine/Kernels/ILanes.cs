using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnService.Engine.Kernels;

/// <summary>
/// One vector width for kernels written once for both (the depthwise convolution): the JIT
/// compiles a generic method per struct type argument, so these calls inline to plain
/// Vector512 or Vector256 instructions.
/// </summary>
internal unsafe interface ILanes<TV>
    where TV : struct
{
    static abstract int Count { get; }
    static abstract TV Load(float* p);
    static abstract void Store(float* p, TV v);
    static abstract TV Splat(float value);

    /// <summary>a * b + acc, fused.</summary>
    static abstract TV MulAdd(TV a, TV b, TV acc);
    static abstract TV Relu(TV v);

    /// <summary>The first <paramref name="count"/> (0 to Count) floats at p, zeros after; never reads past them.</summary>
    static abstract TV LoadFirst(float* p, int count);

    /// <summary>The first <paramref name="count"/> (0 to Count) lanes of v to p; never writes past them.</summary>
    static abstract void StoreFirst(float* p, TV v, int count);

    /// <summary>An elementwise operator's path for this width.</summary>
    static abstract TV Apply<TOp>(in TOp op, TV v) where TOp : struct, IUnaryOperator;

    /// <summary>Whether <see cref="Deinterleave"/> runs on this CPU.</summary>
    static abstract bool CanDeinterleave { get; }

    /// <summary>The 2*Count floats at p split into their even and odd elements.</summary>
    static abstract void Deinterleave(float* p, out TV even, out TV odd);
}

internal readonly unsafe partial struct Lanes512 : ILanes<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* p) => Vector512.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* p, Vector512<float> v) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Splat(float value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MulAdd(Vector512<float> a, Vector512<float> b, Vector512<float> acc) => Vector512.FusedMultiplyAdd(a, b, acc);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Relu(Vector512<float> v) => Vector512.Max(v, Vector512<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Apply<TOp>(in TOp op, Vector512<float> v) where TOp : struct, IUnaryOperator => op.Invoke(v);

    public static bool CanDeinterleave => Avx512F.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadFirst(float* p, int count)
    {
        // The mask's lanes past count are off, and masked-off lanes are neither read nor faulted on.
        Vector512<float> mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();
        if (Avx512F.IsSupported) return Avx512F.MaskLoad(p, mask, Vector512<float>.Zero);
        float* buffer = stackalloc float[16];
        new Span<float>(buffer, 16).Clear();
        new ReadOnlySpan<float>(p, count).CopyTo(new Span<float>(buffer, count));
        return Vector512.Load(buffer);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFirst(float* p, Vector512<float> v, int count)
    {
        if (Avx512F.IsSupported)
        {
            Avx512F.MaskStore(p, Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle(), v);
            return;
        }

        float* buffer = stackalloc float[16];
        v.Store(buffer);
        new ReadOnlySpan<float>(buffer, count).CopyTo(new Span<float>(p, count));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Deinterleave(float* p, out Vector512<float> even, out Vector512<float> odd) =>
        Deinterleave(Vector512.Load(p), Vector512.Load(p + 16), out even, out odd);
}

internal readonly unsafe partial struct Lanes256 : ILanes<Vector256<float>>
{
    public static int Count => Vector256<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* p) => Vector256.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* p, Vector256<float> v) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Splat(float value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> acc) => Vector256.FusedMultiplyAdd(a, b, acc);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Relu(Vector256<float> v) => Vector256.Max(v, Vector256<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Apply<TOp>(in TOp op, Vector256<float> v) where TOp : struct, IUnaryOperator => op.Invoke(v);

    public static bool CanDeinterleave => Avx2.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadFirst(float* p, int count)
    {
        Vector256<float> mask = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(count)).AsSingle();
        if (Avx.IsSupported) return Avx.MaskLoad(p, mask);
        float* buffer = stackalloc float[8];
        new Span<float>(buffer, 8).Clear();
        new ReadOnlySpan<float>(p, count).CopyTo(new Span<float>(buffer, count));
        return Vector256.Load(buffer);
    }

    /// <summary>With AVX-512 one masked store, else <see cref="Lanes256Avx2.StoreFirst"/>'s plain ones.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFirst(float* p, Vector256<float> v, int count)
    {
        if (count >= Vector256<float>.Count) v.Store(p);
        else if (Avx512F.VL.IsSupported) Avx512F.VL.MaskStore(p, Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(count)).AsSingle(), v);
        else Lanes256Avx2.StoreFirst(p, v, count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Deinterleave(float* p, out Vector256<float> even, out Vector256<float> odd)
    {
        // Each half sorted to [evens | odds] within itself, then the 128-bit halves regrouped.
        Vector256<int> order = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
        Vector256<float> a = Avx2.PermuteVar8x32(Vector256.Load(p), order), b = Avx2.PermuteVar8x32(Vector256.Load(p + 8), order);
        even = Avx.Permute2x128(a, b, 0x20);
        odd = Avx.Permute2x128(a, b, 0x31);
    }
}
