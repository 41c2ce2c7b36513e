using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnService.Engine.Kernels;

internal static unsafe partial class PoolWindow
{
    /// <summary>Whether <see cref="Max3x3Stride1"/> runs this pool: a 3x3 max at stride 1 along the row (any row stride and padding).</summary>
    internal static bool IsMax3x3Stride1(in PoolGeometry g) => g.KH == 3 && g.KW == 3 && g.SW == 1;

    /// <summary>
    /// The 3x3 stride-1 max pool of GoogLeNet's inception branches (padded by 1, the map's size kept), AVX-512, straight from
    /// the input rows into registers: for 16 outputs it reduces the window's rows over 16 columns once, and takes each
    /// window's three columns from them and the next 16 by two permutes. The general path stored each reduced row and read it back three times, with its
    /// per-row setup: GoogLeNet's nine such pools took 2x ONNX Runtime's time. Columns outside the row load as minus
    /// infinity, and a row whose inputs sum to NaN takes the scalar twin, as <see cref="Max3x3Stride2"/> does.
    /// Output rows [<paramref name="row0"/>, <paramref name="row1"/>) of each plane.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Max3x3Stride1(float* src, float* dst, int planes, in PoolGeometry g, int row0, int row1, float* scratch)
    {
        long inPlane = (long)g.H * g.W, outPlane = (long)g.OH * g.OW;
        for (int plane = 0; plane < planes; plane++)
        {
            float* input = src + plane * inPlane, output = dst + plane * outPlane;
            for (int oy = row0; oy < row1; oy++)
            {
                (int y0, int count, _) = Rows(g, oy, includePad: false);
                float* r0 = input + (nint)y0 * g.W, r1 = count > 1 ? r0 + g.W : r0, r2 = count > 2 ? r1 + g.W : r1;
                float* outRow = output + (nint)oy * g.OW;
                // The row's last vector may run on into the rows of this plane this loop writes next, not further.
                if (!Max3x3Stride1Row(r0, r1, r2, g.W, g.Left, outRow, g.OW, room: (row1 - oy) * g.OW))
                    RowScalar(input, outRow, oy, g, max: true, includePad: false, ScalarRow(g, scratch), scratch);
            }
        }
    }

    /// <summary>One output row from its three input rows (a row passed twice when the window is clipped), writing at most
    /// <paramref name="room"/> floats from <paramref name="output"/>; false when an input may be NaN.</summary>
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
}
