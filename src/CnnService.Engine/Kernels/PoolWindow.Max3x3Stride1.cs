using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnService.Engine.Kernels;

internal static unsafe partial class PoolWindow
{
    /// <summary>Whether <see cref="Max3x3"/> runs this pool with <see cref="Max3x3Stride1Row"/>: a 3x3 max at stride 1 along the row (any row stride and padding).</summary>
    internal static bool IsMax3x3Stride1(in PoolGeometry g) => g.KH == 3 && g.KW == 3 && g.SW == 1;

    /// <summary>
    /// The 3x3 stride-1 max pool of GoogLeNet's inception branches (padded by 1, the map's size kept), AVX-512, straight from
    /// the input rows into registers: for 16 outputs it reduces the window's rows over 16 columns once, and takes each
    /// window's three columns from them and the next 16 by two permutes. The general path stored each reduced row and read
    /// it back three times, with its per-row setup: GoogLeNet's nine such pools took 2x ONNX Runtime's time. Columns outside
    /// the row load as minus infinity, and a row whose inputs sum to NaN takes the scalar twin, as <see cref="Max3x3Stride2Row"/> does.
    /// <see cref="Max3x3"/> runs it over planes.
    /// </summary>
    /// <remarks>One output row from its three input rows (a row passed twice when the window is clipped), writing at most
    /// <paramref name="room"/> floats from <paramref name="output"/>; false when an input may be NaN.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Max3x3Stride1Row(float* r0, float* r1, float* r2, int w, int left, float* output, int ow, int room)
    {
        Vector512<float> probe = Vector512<float>.Zero;
        int c = -left; // the first window's first column
        Vector512<float> a = Reduced3(r0, r1, r2, c, w, ref probe);
        for (int ox = 0; ox < ow; ox += 16, c += 16)
        {
            // Outputs ox + 14 and ox + 15 read the next vector's first two columns; a last vector that stops short does not load it.
            Vector512<float> b = ox + 14 < ow ? Reduced3(r0, r1, r2, c + 16, w, ref probe) : Vector512.Create(float.NegativeInfinity);
            Vector512<float> second = Avx512F.PermuteVar16x32x2(a, Vector512.Create(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16), b);
            Vector512<float> third = Avx512F.PermuteVar16x32x2(a, Vector512.Create(2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17), b);
            // Each window's columns left to right, as the scalar twin reduces them.
            Vector512<float> max = Lanes512.MaxOrdered(Lanes512.MaxOrdered(a, second), third);
            if (ox + 16 <= room) Lanes512.Store(output + ox, max);
            else Lanes512.StoreFirst(output + ox, max, ow - ox);
            a = b;
        }

        return !Lanes512.AnyNaN(probe);
    }

    /// <summary>
    /// The same with AVX2, eight outputs at a time. AVX2 has no two-vector permute: a lane swap puts the reduced vector's upper
    /// half beside the next one's lower half, and two byte shifts within halves take each window's second and third column from
    /// them. The general path, row buffers stored and read back three times, took 1.9-2.7x ONNX Runtime's time on GoogLeNet's
    /// inception pools; this one 1.35-1.57x less (14x14 maps 0.118-0.123 -> 0.073-0.080 ms, 7x7 0.082 -> 0.052; AMD EPYC Zen 3,
    /// one thread; ONNX Runtime 0.042-0.047 and 0.032).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Max3x3Stride1Row256(float* r0, float* r1, float* r2, int w, int left, float* output, int ow, int room)
    {
        Vector256<float> probe = Vector256<float>.Zero;
        int c = -left;
        Vector256<float> a = Reduced3(r0, r1, r2, c, w, ref probe);
        for (int ox = 0; ox < ow; ox += 8, c += 8)
        {
            // Outputs ox + 6 and ox + 7 read the next vector's first two columns.
            Vector256<float> b = ox + 6 < ow ? Reduced3(r0, r1, r2, c + 8, w, ref probe) : Vector256.Create(float.NegativeInfinity);
            Vector256<byte> straddle = Avx.Permute2x128(a, b, 0x21).AsByte(), first = a.AsByte();   // [a's upper half, b's lower half]
            Vector256<float> second = Avx2.AlignRight(straddle, first, 4).AsSingle(), third = Avx2.AlignRight(straddle, first, 8).AsSingle();
            Vector256<float> max = Lanes256.MaxOrdered(Lanes256.MaxOrdered(a, second), third);
            if (ox + 8 <= room) max.Store(output + ox);
            else Lanes256.StoreFirst(output + ox, max, ow - ox);
            a = b;
        }

        return !Lanes256.AnyNaN(probe);
    }
}
