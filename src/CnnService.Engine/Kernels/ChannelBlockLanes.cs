using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnService.Engine.Kernels;

/// <summary>
/// Lanes that hold one position of a block of channels (<see cref="DepthwiseBlocked"/>: as many channels as a vector has lanes):
/// rows of that many planes transposed into [position][channel] and back, 16 x 16 with AVX-512, 8 x 8 with AVX2.
/// </summary>
internal unsafe interface IChannelBlockLanes<TV> : ILanes<TV>
    where TV : struct
{
    /// <summary>
    /// Count planes' rows (row r at <paramref name="src"/> + r * <paramref name="ld"/>), their first <paramref name="valid"/>
    /// (1 to Count) columns activated by <paramref name="op"/>, as dst[c * Count + r] for every c below Count: columns past
    /// <paramref name="valid"/> are zeros, never read (an activated zero need not stay zero).
    /// </summary>
    static abstract void GatherColumns<TOp>(in TOp op, float* src, nint ld, int valid, float* dst) where TOp : struct, IUnaryOperator;

    /// <summary>The reverse for <paramref name="valid"/> (1 to Count) positions: staged[p * Count + r] to dst[r * ld + p], nothing
    /// past <paramref name="valid"/> written.</summary>
    static abstract void ScatterColumns(float* staged, float* dst, nint ld, int valid);
}

internal readonly unsafe partial struct Lanes512 : IChannelBlockLanes<Vector512<float>>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GatherColumns<TOp>(in TOp op, float* src, nint ld, int valid, float* dst) where TOp : struct, IUnaryOperator
    {
        Vector512<float> m = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(valid)).AsSingle();
        Transpose16.Store(
            Row(op, src, m), Row(op, src + ld, m), Row(op, src + 2 * ld, m), Row(op, src + 3 * ld, m),
            Row(op, src + 4 * ld, m), Row(op, src + 5 * ld, m), Row(op, src + 6 * ld, m), Row(op, src + 7 * ld, m),
            Row(op, src + 8 * ld, m), Row(op, src + 9 * ld, m), Row(op, src + 10 * ld, m), Row(op, src + 11 * ld, m),
            Row(op, src + 12 * ld, m), Row(op, src + 13 * ld, m), Row(op, src + 14 * ld, m), Row(op, src + 15 * ld, m),
            dst, Count, Vector512<float>.AllBitsSet);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ScatterColumns(float* staged, float* dst, nint ld, int valid) =>
        Transpose16.Store(staged, Count, dst, ld, Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(valid)).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Row<TOp>(in TOp op, float* src, Vector512<float> mask) where TOp : struct, IUnaryOperator
    {
        Vector512<float> x = Avx512F.MaskLoad(src, mask, Vector512<float>.Zero);
        return typeof(TOp) == typeof(IdentityOperator) ? x : op.Invoke(x) & mask;
    }
}

internal readonly unsafe partial struct Lanes256 : IChannelBlockLanes<Vector256<float>>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GatherColumns<TOp>(in TOp op, float* src, nint ld, int valid, float* dst) where TOp : struct, IUnaryOperator
    {
        Vector256<float> m = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(valid)).AsSingle();
        bool whole = valid == Count;
        Transpose8.Columns(Row(op, src, m, whole), Row(op, src + ld, m, whole), Row(op, src + 2 * ld, m, whole), Row(op, src + 3 * ld, m, whole),
            Row(op, src + 4 * ld, m, whole), Row(op, src + 5 * ld, m, whole), Row(op, src + 6 * ld, m, whole), Row(op, src + 7 * ld, m, whole),
            out var c0, out var c1, out var c2, out var c3, out var c4, out var c5, out var c6, out var c7);
        c0.Store(dst); c1.Store(dst + 8); c2.Store(dst + 16); c3.Store(dst + 24);
        c4.Store(dst + 32); c5.Store(dst + 40); c6.Store(dst + 48); c7.Store(dst + 56);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ScatterColumns(float* staged, float* dst, nint ld, int valid)
    {
        Transpose8.Load(staged, Count, out var c0, out var c1, out var c2, out var c3, out var c4, out var c5, out var c6, out var c7);
        StoreFirst(dst, c0, valid); StoreFirst(dst + ld, c1, valid); StoreFirst(dst + 2 * ld, c2, valid); StoreFirst(dst + 3 * ld, c3, valid);
        StoreFirst(dst + 4 * ld, c4, valid); StoreFirst(dst + 5 * ld, c5, valid); StoreFirst(dst + 6 * ld, c6, valid); StoreFirst(dst + 7 * ld, c7, valid);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Row<TOp>(in TOp op, float* src, Vector256<float> mask, bool whole) where TOp : struct, IUnaryOperator
    {
        if (whole) return op.Invoke(Vector256.Load(src));
        Vector256<float> x = Avx.MaskLoad(src, mask); // masked-off lanes are neither read nor faulted on
        return typeof(TOp) == typeof(IdentityOperator) ? x : op.Invoke(x) & mask;
    }
}
