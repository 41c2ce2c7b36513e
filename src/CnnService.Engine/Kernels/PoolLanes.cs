using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnService.Engine.Kernels;

/// <summary>
/// What <see cref="PoolWindow"/>'s vector path needs of one vector width beyond <see cref="ILanes{TV}"/>; <see cref="Lanes512"/>
/// and <see cref="Lanes256"/> give both. The max here is not the IEEE
/// maximum of <see cref="Vector512.Max(Vector512{float}, Vector512{float})"/> (a range and two fix-ups per
/// call): it is exact for every input but NaN, +0 above -0, and the kernel finds NaN separately, once per
/// output row, and then takes the scalar twin for that row.
/// </summary>
internal unsafe interface IPoolLanes<TV> : ILanes<TV>
    where TV : struct
{
    static abstract TV Add(TV a, TV b);
    static abstract TV Divide(TV a, TV b);
    static abstract TV Multiply(TV a, float b);

    /// <summary>The larger of a and b, +0 above -0; exact when neither is NaN (what it gives for a NaN is unspecified).</summary>
    static abstract TV MaxOrdered(TV a, TV b);

    /// <summary>Whether any lane of v is NaN.</summary>
    static abstract bool AnyNaN(TV v);

    /// <summary>The lanes of a then b split into the even ones and the odd ones, each in order.</summary>
    static abstract void Deinterleave(TV a, TV b, out TV even, out TV odd);
}

internal readonly unsafe partial struct Lanes512 : IPoolLanes<Vector512<float>>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Divide(Vector512<float> a, Vector512<float> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> a, float b) => a * b;

    // vrangeps, max with the sign from the comparison: one instruction, +0 above -0, NaN dropped.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MaxOrdered(Vector512<float> a, Vector512<float> b) =>
        Avx512DQ.IsSupported ? Avx512DQ.Range(a, b, 0b0101) : Vector512.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AnyNaN(Vector512<float> v) => !Vector512.EqualsAll(v, v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Deinterleave(Vector512<float> a, Vector512<float> b, out Vector512<float> even, out Vector512<float> odd)
    {
        even = Avx512F.PermuteVar16x32x2(a, Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b);
        odd = Avx512F.PermuteVar16x32x2(a, Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), b);
    }
}

/// <summary>256-bit lanes: AVX-512VL's range and two-table permute where the CPU has them, else <see cref="Lanes256Avx2"/>'s forms.</summary>
internal readonly unsafe partial struct Lanes256 : IPoolLanes<Vector256<float>>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Divide(Vector256<float> a, Vector256<float> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Multiply(Vector256<float> a, float b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MaxOrdered(Vector256<float> a, Vector256<float> b) =>
        Avx512DQ.VL.IsSupported ? Avx512DQ.VL.Range(a, b, 0b0101) : Lanes256Avx2.MaxOrdered(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AnyNaN(Vector256<float> v) => !Vector256.EqualsAll(v, v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Deinterleave(Vector256<float> a, Vector256<float> b, out Vector256<float> even, out Vector256<float> odd)
    {
        if (Avx512F.VL.IsSupported)
        {
            even = Avx512F.VL.PermuteVar8x32x2(a, Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14), b);
            odd = Avx512F.VL.PermuteVar8x32x2(a, Vector256.Create(1, 3, 5, 7, 9, 11, 13, 15), b);
        }
        else
        {
            Lanes256Avx2.Deinterleave(a, b, out even, out odd);
        }
    }
}

/// <summary>The 256-bit lanes of a CPU without AVX-512 (and for the tests, which run them on one that has it): <see cref="Lanes256"/>
/// but for the max and the two-vector split, which take the AVX2 forms.</summary>
internal readonly unsafe struct Lanes256Avx2 : IPoolLanes<Vector256<float>>
{
    public static int Count => Lanes256.Count;
    public static Vector256<float> Load(float* p) => Lanes256.Load(p);
    public static void Store(float* p, Vector256<float> v) => Lanes256.Store(p, v);
    public static Vector256<float> Splat(float value) => Lanes256.Splat(value);
    public static Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> acc) => Lanes256.MulAdd(a, b, acc);
    public static Vector256<float> Relu(Vector256<float> v) => Lanes256.Relu(v);
    public static Vector256<float> LoadFirst(float* p, int count) => Lanes256.LoadFirst(p, count);

    /// <summary>
    /// Stores of 4, 2 and 1 floats, not AVX's vmaskmovps, which AMD cores run as a dozen-cycle microcoded store (Zen 4:
    /// Keras' MNIST layer at Vector256 spent 14 % of its time in them). Any count from 0 to 8.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFirst(float* p, Vector256<float> v, int count)
    {
        if (count >= Count)
        {
            v.Store(p);
            return;
        }

        Vector128<float> part = v.GetLower();
        if ((count & 4) != 0)
        {
            part.Store(p);
            part = v.GetUpper();
            p += 4;
        }

        if ((count & 2) != 0)
        {
            Unsafe.WriteUnaligned(p, part.AsDouble().ToScalar());
            part = Vector128.Shuffle(part, Vector128.Create(2, 3, 2, 3));
            p += 2;
        }

        if ((count & 1) != 0) *p = part.ToScalar();
    }

    public static Vector256<float> Apply<TOp>(in TOp op, Vector256<float> v) where TOp : struct, IUnaryOperator => op.Invoke(v);
    public static bool CanDeinterleave => Lanes256.CanDeinterleave;
    public static void Deinterleave(float* p, out Vector256<float> even, out Vector256<float> odd) => Lanes256.Deinterleave(p, out even, out odd);
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
    public static Vector256<float> Divide(Vector256<float> a, Vector256<float> b) => a / b;
    public static Vector256<float> Multiply(Vector256<float> a, float b) => a * b;
    public static bool AnyNaN(Vector256<float> v) => Lanes256.AnyNaN(v);

    // maxps returns its second operand when the two compare equal, so -0 against +0 depends on the order;
    // both orders ANDed give +0 there and the plain max everywhere else (equal values have equal bits).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MaxOrdered(Vector256<float> a, Vector256<float> b) =>
        Avx.IsSupported ? Avx.And(Avx.Max(a, b), Avx.Max(b, a)) : Vector256.Max(a, b);

    // shufps takes elements 0 and 2 (or 1 and 3) of each 128-bit lane of a then of b ([a0 a2 b0 b2 | a4 a6 b4 b6]);
    // vpermpd puts the 64-bit pairs back in order.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Deinterleave(Vector256<float> a, Vector256<float> b, out Vector256<float> even, out Vector256<float> odd)
    {
        even = Avx2.Permute4x64(Avx.Shuffle(a, b, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle();
        odd = Avx2.Permute4x64(Avx.Shuffle(a, b, 0b11_01_11_01).AsDouble(), 0b11_01_10_00).AsSingle();
    }
}
