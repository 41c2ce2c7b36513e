using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnService.Engine.Kernels;

/// <summary>
/// An 8 x 8 float transpose in AVX registers: 24 shuffles in three rounds, each round pairing elements twice as far
/// apart (1, 2, then 4 floats), as a scalar copy would take 64 loads and 64 strided stores: <see cref="Transpose16"/>'s
/// AVX2 twin, for <see cref="RowPacker"/> on CPUs without AVX-512.
/// </summary>
internal static unsafe class Transpose8
{
    public static bool IsSupported => Avx.IsSupported;

    /// <summary>dst[i * ldDst + j] = src[j * ldSrc + i] for i, j below 8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Store(float* src, nint ldSrc, float* dst, nint ldDst)
    {
        Load(src, ldSrc, out var c0, out var c1, out var c2, out var c3, out var c4, out var c5, out var c6, out var c7);
        c0.Store(dst); c1.Store(dst + ldDst); c2.Store(dst + 2 * ldDst); c3.Store(dst + 3 * ldDst);
        c4.Store(dst + 4 * ldDst); c5.Store(dst + 5 * ldDst); c6.Store(dst + 6 * ldDst); c7.Store(dst + 7 * ldDst);
    }

    /// <summary>Column i of the 8 x 8 block at <paramref name="src"/> (rows <paramref name="ldSrc"/> apart) as c[i]: c[i][j] =
    /// src[j * ldSrc + i], in registers for a caller that stores the columns itself.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(float* src, nint ldSrc, out Vector256<float> c0, out Vector256<float> c1, out Vector256<float> c2, out Vector256<float> c3,
        out Vector256<float> c4, out Vector256<float> c5, out Vector256<float> c6, out Vector256<float> c7)
    {
        Columns(Vector256.Load(src), Vector256.Load(src + ldSrc), Vector256.Load(src + 2 * ldSrc), Vector256.Load(src + 3 * ldSrc),
            Vector256.Load(src + 4 * ldSrc), Vector256.Load(src + 5 * ldSrc), Vector256.Load(src + 6 * ldSrc), Vector256.Load(src + 7 * ldSrc),
            out c0, out c1, out c2, out c3, out c4, out c5, out c6, out c7);
    }

    /// <summary>Column i of the rows r0..r7 as c[i]: c[i][j] = r[j][i], for callers whose rows are not a plain strided load.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Columns(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7,
        out Vector256<float> c0, out Vector256<float> c1, out Vector256<float> c2, out Vector256<float> c3,
        out Vector256<float> c4, out Vector256<float> c5, out Vector256<float> c6, out Vector256<float> c7)
    {
        // Round 1: pairs of rows interleaved float by float within each 128-bit half.
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);

        // Round 2: pairs of floats; u[c] holds rows 0-3 of column c in its low half and of column c + 4 in its high half
        // (u[4 + c]: rows 4-7).
        Vector256<float> u0 = Lo64(t0, t2), u1 = Hi64(t0, t2), u2 = Lo64(t1, t3), u3 = Hi64(t1, t3);
        Vector256<float> u4 = Lo64(t4, t6), u5 = Hi64(t4, t6), u6 = Lo64(t5, t7), u7 = Hi64(t5, t7);

        // Round 3: the halves joined, column c from the low halves of u[c] and u[4 + c], column c + 4 from the high ones.
        c0 = Avx.Permute2x128(u0, u4, 0x20); c1 = Avx.Permute2x128(u1, u5, 0x20); c2 = Avx.Permute2x128(u2, u6, 0x20); c3 = Avx.Permute2x128(u3, u7, 0x20);
        c4 = Avx.Permute2x128(u0, u4, 0x31); c5 = Avx.Permute2x128(u1, u5, 0x31); c6 = Avx.Permute2x128(u2, u6, 0x31); c7 = Avx.Permute2x128(u3, u7, 0x31);
    }

    private static Vector256<float> Lo64(Vector256<float> a, Vector256<float> b) => Avx.UnpackLow(a.AsDouble(), b.AsDouble()).AsSingle();

    private static Vector256<float> Hi64(Vector256<float> a, Vector256<float> b) => Avx.UnpackHigh(a.AsDouble(), b.AsDouble()).AsSingle();
}
