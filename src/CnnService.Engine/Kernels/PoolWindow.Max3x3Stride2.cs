using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnService.Engine.Kernels;

internal static unsafe partial class PoolWindow
{
    /// <summary>Whether <see cref="Max3x3"/> runs this pool with <see cref="Max3x3Stride2Row"/>: a 3x3 max at stride 2 along the row (any row stride and padding).</summary>
    internal static bool IsMax3x3Stride2(in PoolGeometry g) => g.KH == 3 && g.KW == 3 && g.SW == 2;

    /// <summary>The input rows output row <paramref name="oy"/>'s windows read: the first, and how many (1-3: the padding clips them).</summary>
    internal static (int First, int Count) WindowRows(in PoolGeometry g, int oy)
    {
        (int first, int count, _) = Rows(g, oy, includePad: false);
        return (first, count);
    }

    /// <summary>
    /// One output row of a 3x3 stride-2 max pool from its window's input rows, wherever they lie (a convolution that pools
    /// its own rows as it makes them keeps only the last three): <paramref name="r0"/> to <paramref name="r2"/>, a row passed
    /// again where <see cref="WindowRows"/> counts fewer than three. Writes at most <paramref name="room"/> floats from
    /// <paramref name="output"/>. The same bits as <see cref="Max3x3"/>, its scalar twin included for a row that may
    /// hold a NaN (<paramref name="scratch"/>: W floats).
    /// </summary>
    internal static void Max3x3Stride2Row(float* r0, float* r1, float* r2, in PoolGeometry g, float* output, int room, float* scratch)
    {
        if (Max3x3Stride2Row(r0, r1, r2, g.W, g.Left, output, g.OW, room)) return;

        // RowScalar's reduction from the three rows (a clipped window's row twice gives the same bits: max(a, a) is a).
        for (int x = 0; x < g.W; x++) scratch[x] = Math.Max(Math.Max(r0[x], r1[x]), r2[x]);
        ColumnsScalar(output, g, max: true, 1f, scratch, divisors: null);
    }

    /// <summary>
    /// The 3x3 stride-2 max pool of ResNet, SqueezeNet and GoogLeNet, AVX-512, straight from the input rows into
    /// registers: no row buffer. For 16 outputs it reduces 32 input columns of the window's rows (two vectors,
    /// and the next two's first becomes the following step's first), splits them into the even and odd columns,
    /// and shifts the evens by one column for each window's third tap (three permutes). The general path stored
    /// each reduced row split in two and read it back, which with its per-row setup cost 100 cycles a row of
    /// 55 outputs (SqueezeNet's first pool 0.09-0.11 ms, ONNX Runtime's 0.05). Columns outside the row load as
    /// minus infinity, the identity of max, so padding and ceil_mode's overhang cost nothing. The same NaN rule as
    /// the general path: a row whose inputs sum to NaN may hold one, and takes the scalar twin.
    /// <see cref="Max3x3"/> runs it over planes, as it runs the stride-1 one.
    /// </summary>
    /// <remarks>One output row from its three input rows (a row passed twice when the window is clipped), writing at most
    /// <paramref name="room"/> floats from <paramref name="output"/> (its last vector whole when it fits); false when an input may be NaN.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Max3x3Stride2Row(float* r0, float* r1, float* r2, int w, int left, float* output, int ow, int room)
    {
        Vector512<float> probe = Vector512<float>.Zero;
        int c = -left; // the first window's first column
        Vector512<float> a = Reduced3(r0, r1, r2, c, w, ref probe);
        for (int ox = 0; ox < ow; ox += 16, c += 32)
        {
            // Column c + 32 is read only by output ox + 15: a row's last vector that stops short of it does not load it (a
            // 13-wide pooled row, SqueezeNet's and GoogLeNet's last pools, then loads two column vectors, not three).
            Vector512<float> b = Reduced3(r0, r1, r2, c + 16, w, ref probe);
            Vector512<float> next = ox + 15 < ow ? Reduced3(r0, r1, r2, c + 32, w, ref probe) : Vector512.Create(float.NegativeInfinity);
            Vector512<float> even = Avx512F.PermuteVar16x32x2(a, Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b);
            Vector512<float> odd = Avx512F.PermuteVar16x32x2(a, Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), b);
            Vector512<float> third = Avx512F.PermuteVar16x32x2(even, Vector512.Create(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16), next);
            Vector512<float> max = Lanes512.MaxOrdered(Lanes512.MaxOrdered(even, odd), third);
            if (ox + 16 <= room) Lanes512.Store(output + ox, max);
            else Lanes512.StoreFirst(output + ox, max, ow - ox);
            a = next;
        }

        return !Lanes512.AnyNaN(probe);
    }

    /// <summary>
    /// The same with AVX2, eight outputs at a time from 16 reduced columns (and the next vector's first, for the last window's
    /// third tap): split into even and odd columns, the evens shifted by one column by a lane swap and an in-lane byte shift, as
    /// <see cref="Max3x3Stride1Row256"/> takes its windows' columns.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Max3x3Stride2Row256(float* r0, float* r1, float* r2, int w, int left, float* output, int ow, int room)
    {
        Vector256<float> probe = Vector256<float>.Zero;
        int c = -left;
        Vector256<float> a = Reduced3(r0, r1, r2, c, w, ref probe);
        for (int ox = 0; ox < ow; ox += 8, c += 16)
        {
            // Column c + 16 is read only by output ox + 7.
            Vector256<float> b = Reduced3(r0, r1, r2, c + 8, w, ref probe);
            Vector256<float> next = ox + 7 < ow ? Reduced3(r0, r1, r2, c + 16, w, ref probe) : Vector256.Create(float.NegativeInfinity);
            Lanes256.Deinterleave(a, b, out Vector256<float> even, out Vector256<float> odd);
            Vector256<byte> straddle = Avx.Permute2x128(even, next, 0x21).AsByte();   // [even's upper half, next's lower half]
            Vector256<float> third = Avx2.AlignRight(straddle, even.AsByte(), 4).AsSingle();
            Vector256<float> max = Lanes256.MaxOrdered(Lanes256.MaxOrdered(even, odd), third);
            if (ox + 8 <= room) max.Store(output + ox);
            else Lanes256.StoreFirst(output + ox, max, ow - ox);
            a = next;
        }

        return !Lanes256.AnyNaN(probe);
    }

    /// <summary>Columns [c, c + 16) of the three rows reduced, minus infinity outside [0, w); their sum goes into the NaN probe.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Reduced3(float* r0, float* r1, float* r2, int c, int w, ref Vector512<float> probe)
    {
        Vector512<float> x0, x1, x2;
        if (c >= 0 && c + 16 <= w)
        {
            x0 = Vector512.Load(r0 + c);
            x1 = Vector512.Load(r1 + c);
            x2 = Vector512.Load(r2 + c);
        }
        else
        {
            // Masked-off lanes are neither read nor faulted on, so the row's neighbours in memory are never touched.
            Vector512<int> column = Vector512<int>.Indices + Vector512.Create(c);
            Vector512<float> inside = (Vector512.GreaterThanOrEqual(column, Vector512<int>.Zero) & Vector512.LessThan(column, Vector512.Create(w))).AsSingle();
            Vector512<float> identity = Vector512.Create(float.NegativeInfinity);
            x0 = Avx512F.MaskLoad(r0 + c, inside, identity);
            x1 = Avx512F.MaskLoad(r1 + c, inside, identity);
            x2 = Avx512F.MaskLoad(r2 + c, inside, identity);
        }

        probe += x0 + x1 + x2;
        return Lanes512.MaxOrdered(Lanes512.MaxOrdered(x0, x1), x2);
    }

    /// <summary>The same at eight lanes: AVX2's masked load gives zeros, so the lanes outside [0, w) are blended to minus infinity.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Reduced3(float* r0, float* r1, float* r2, int c, int w, ref Vector256<float> probe)
    {
        Vector256<float> x0, x1, x2;
        if (c >= 0 && c + 8 <= w)
        {
            x0 = Vector256.Load(r0 + c);
            x1 = Vector256.Load(r1 + c);
            x2 = Vector256.Load(r2 + c);
        }
        else
        {
            // Masked-off lanes are neither read nor faulted on; they load as zero and become minus infinity.
            Vector256<int> column = Vector256<int>.Indices + Vector256.Create(c);
            Vector256<float> inside = (Vector256.GreaterThanOrEqual(column, Vector256<int>.Zero) & Vector256.LessThan(column, Vector256.Create(w))).AsSingle();
            Vector256<float> identity = Vector256.Create(float.NegativeInfinity);
            x0 = Avx.BlendVariable(identity, Avx.MaskLoad(r0 + c, inside), inside);
            x1 = Avx.BlendVariable(identity, Avx.MaskLoad(r1 + c, inside), inside);
            x2 = Avx.BlendVariable(identity, Avx.MaskLoad(r2 + c, inside), inside);
        }

        probe += x0 + x1 + x2;
        return Lanes256.MaxOrdered(Lanes256.MaxOrdered(x0, x1), x2);
    }
}
