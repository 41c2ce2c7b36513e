using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnService.Engine.Kernels;

/// <summary>
/// A 16 x 16 float transpose in AVX-512 registers: 64 shuffles in four rounds, each round
/// pairing elements twice as far apart (1, 2, 4, then 8 floats), as a scalar copy would take
/// 256 loads and stores. <see cref="DirectConv"/> uses it to turn [position][channel] tiles into NCHW rows.
/// </summary>
internal static unsafe class Transpose16
{
    /// <summary>dst[i * ldDst + j] = src[j * ldSrc + i] for the 16 rows i and the columns j where <paramref name="mask"/> is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Store(float* src, nint ldSrc, float* dst, nint ldDst, Vector512<float> mask) =>
        Store(Vector512.Load(src), Vector512.Load(src + ldSrc), Vector512.Load(src + 2 * ldSrc), Vector512.Load(src + 3 * ldSrc),
            Vector512.Load(src + 4 * ldSrc), Vector512.Load(src + 5 * ldSrc), Vector512.Load(src + 6 * ldSrc), Vector512.Load(src + 7 * ldSrc),
            Vector512.Load(src + 8 * ldSrc), Vector512.Load(src + 9 * ldSrc), Vector512.Load(src + 10 * ldSrc), Vector512.Load(src + 11 * ldSrc),
            Vector512.Load(src + 12 * ldSrc), Vector512.Load(src + 13 * ldSrc), Vector512.Load(src + 14 * ldSrc), Vector512.Load(src + 15 * ldSrc),
            dst, ldDst, mask);

    /// <summary>dst[i * ldDst + j] = lane i of rj for the 16 rows i and the columns j where <paramref name="mask"/> is set:
    /// for callers whose rows are not a plain strided load (masked, or activated first).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> r0, Vector512<float> r1, Vector512<float> r2, Vector512<float> r3,
        Vector512<float> r4, Vector512<float> r5, Vector512<float> r6, Vector512<float> r7,
        Vector512<float> r8, Vector512<float> r9, Vector512<float> r10, Vector512<float> r11,
        Vector512<float> r12, Vector512<float> r13, Vector512<float> r14, Vector512<float> r15,
        float* dst, nint ldDst, Vector512<float> mask)
    {
        // Round 1: pairs of rows interleaved float by float within each 128-bit lane.
        Vector512<float> t0 = Avx512F.UnpackLow(r0, r1), t1 = Avx512F.UnpackHigh(r0, r1);
        Vector512<float> t2 = Avx512F.UnpackLow(r2, r3), t3 = Avx512F.UnpackHigh(r2, r3);
        Vector512<float> t4 = Avx512F.UnpackLow(r4, r5), t5 = Avx512F.UnpackHigh(r4, r5);
        Vector512<float> t6 = Avx512F.UnpackLow(r6, r7), t7 = Avx512F.UnpackHigh(r6, r7);
        Vector512<float> t8 = Avx512F.UnpackLow(r8, r9), t9 = Avx512F.UnpackHigh(r8, r9);
        Vector512<float> t10 = Avx512F.UnpackLow(r10, r11), t11 = Avx512F.UnpackHigh(r10, r11);
        Vector512<float> t12 = Avx512F.UnpackLow(r12, r13), t13 = Avx512F.UnpackHigh(r12, r13);
        Vector512<float> t14 = Avx512F.UnpackLow(r14, r15), t15 = Avx512F.UnpackHigh(r14, r15);

        // Round 2: pairs of floats; u[4q + c] lane L now holds rows 4q..4q+3 of column 4L + c.
        Vector512<float> u0 = Lo64(t0, t2), u1 = Hi64(t0, t2), u2 = Lo64(t1, t3), u3 = Hi64(t1, t3);
        Vector512<float> u4 = Lo64(t4, t6), u5 = Hi64(t4, t6), u6 = Lo64(t5, t7), u7 = Hi64(t5, t7);
        Vector512<float> u8 = Lo64(t8, t10), u9 = Hi64(t8, t10), u10 = Lo64(t9, t11), u11 = Hi64(t9, t11);
        Vector512<float> u12 = Lo64(t12, t14), u13 = Hi64(t12, t14), u14 = Lo64(t13, t15), u15 = Hi64(t13, t15);

        // Rounds 3 and 4: whole 128-bit lanes, so column 4L + c gathers lane L of u[c], u[4+c], u[8+c], u[12+c].
        Column4(u0, u4, u8, u12, dst, ldDst, mask);
        Column4(u1, u5, u9, u13, dst + ldDst, ldDst, mask);
        Column4(u2, u6, u10, u14, dst + 2 * ldDst, ldDst, mask);
        Column4(u3, u7, u11, u15, dst + 3 * ldDst, ldDst, mask);
    }

    /// <summary>Stores columns c, 4 + c, 8 + c, 12 + c (as rows 0, 4, 8, 12 from <paramref name="dst"/>) from the four u vectors of c.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Column4(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d, float* dst, nint ld, Vector512<float> mask)
    {
        const byte Even = 0b10_00_10_00, Odd = 0b11_01_11_01; // lanes (0, 2) or (1, 3) of each source
        Vector512<float> abEven = Avx512F.Shuffle4x128(a, b, Even), abOdd = Avx512F.Shuffle4x128(a, b, Odd);
        Vector512<float> cdEven = Avx512F.Shuffle4x128(c, d, Even), cdOdd = Avx512F.Shuffle4x128(c, d, Odd);
        Avx512F.MaskStore(dst, mask, Avx512F.Shuffle4x128(abEven, cdEven, Even));
        Avx512F.MaskStore(dst + 4 * ld, mask, Avx512F.Shuffle4x128(abOdd, cdOdd, Even));
        Avx512F.MaskStore(dst + 8 * ld, mask, Avx512F.Shuffle4x128(abEven, cdEven, Odd));
        Avx512F.MaskStore(dst + 12 * ld, mask, Avx512F.Shuffle4x128(abOdd, cdOdd, Odd));
    }

    private static Vector512<float> Lo64(Vector512<float> a, Vector512<float> b) => Avx512F.UnpackLow(a.AsDouble(), b.AsDouble()).AsSingle();

    private static Vector512<float> Hi64(Vector512<float> a, Vector512<float> b) => Avx512F.UnpackHigh(a.AsDouble(), b.AsDouble()).AsSingle();
}
