using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Kernels;

/// <summary>One pooling window's geometry over an H x W plane: kernel, stride, padding on each side and the output size.</summary>
internal readonly record struct PoolGeometry(int H, int W, int KH, int KW, int SH, int SW, int Top, int Left, int Bottom, int Right, int OH, int OW)
{
    /// <summary>The widest vector, in floats: the vector path reads and writes whole ones of them past the last output.</summary>
    internal const int MaxLanes = 16;

    /// <summary>
    /// A row buffer for the vector path. Stride 2 splits it in two phases of <see cref="PhaseFloats"/>: the even
    /// padded columns, then the odd, so that each tap of a window is a plain load. Any other stride keeps the
    /// padded row whole: Left padding cells, the W reduced columns, then padding up to where the last (whole)
    /// vector of outputs reads, SW * OW rounded up to a vector, plus the window and one more vector. Stored:
    /// every output row of every plane reads it.
    /// </summary>
    public int RowFloats { get; } = SW == 2 ? 2 * PhaseLength(W, KW, Left, OW) : RoundUp(Math.Max(Left + W, SW * RoundUp(OW) + KW + MaxLanes) + MaxLanes);

    /// <summary>One phase of a stride-2 row: the reduced row's half and its padding, or the last vector of outputs' reads.</summary>
    public int PhaseFloats => RowFloats / 2;

    private static int PhaseLength(int w, int kw, int left, int ow) => RoundUp(Math.Max((left + w) / 2 + 2, RoundUp(ow) + kw) + MaxLanes);

    /// <summary>The output columns' divisors, one vector's worth past OW.</summary>
    public int DivisorFloats => RoundUp(OW);

    /// <summary>
    /// Output rows whose input rows the vector path reduces before it reads any of them back: a row's columns
    /// read the buffer right after it was stored, and a load that spans two stores still in flight cannot take
    /// their data and waits for them to reach the cache, which cost a row as much as all its arithmetic.
    /// </summary>
    public int BlockRows => Math.Min(OH, 8);

    internal static int RoundUp(int n) => (n + MaxLanes - 1) / MaxLanes * MaxLanes;
}

/// <summary>
/// Max or average pooling of H x W planes with any window, stride and padding. Padding is never a
/// value: max ignores it (as minus infinity would be), and the average divides either by the window's
/// cells inside the input (count_include_pad false, the default) or by the window's cells inside the
/// padded input (true), PyTorch's and ONNX Runtime's divisor: a window that ceil_mode lets run past the
/// bottom or right padding counts only up to its edge. Every window holds at least one input cell
/// (<see cref="Layers.Pool2D"/> makes sure), so no mean divides by 0.
/// <para>
/// Separable, in the same order at every level so that all give the same bits: for each output row the
/// window's rows are reduced column by column, top to bottom, into a row buffer; then each output reduces
/// its window's columns of that buffer left to right and the average divides by its count. The vector
/// path's buffer holds the padding as the reduction's identity (minus infinity for max; -0 for the sum,
/// since -0 + x is x for every x, -0 included), so a clipped window costs what any other does; the scalar
/// twin reduces only the cells inside, the same bits. Max is the IEEE maximum: NaN wins, +0 beats -0. The
/// vector path's max drops NaN instead, so it checks the rows it reads for NaN and runs the scalar twin
/// for any output row that may have one.
/// </para>
/// With AVX-512 a 3x3 max at stride 2, the stem pool of most networks, skips the row buffer (<see cref="Max3x3Stride2Row"/>), and so does
/// one at stride 1, GoogLeNet's inception branches (<see cref="Max3x3Stride1Row"/>): the same bits.
/// <see cref="PlaneReference"/> is the plain window-by-window loop both are tested against, and the reference for <see cref="Pool2x2"/>.
/// </summary>
internal static unsafe partial class PoolWindow
{
    /// <summary>Floats of scratch <see cref="Planes"/> needs: the output columns' divisors, a block of row buffers, then the scalar row.</summary>
    public static long ScratchFloats(in PoolGeometry g) => g.DivisorFloats + (long)g.BlockRows * g.RowFloats + g.W;

    /// <summary>Where the scalar row (<see cref="RowScalar"/>'s W reduced columns, never padded) starts in the scratch.</summary>
    private static float* ScalarRow(in PoolGeometry g, float* scratch) => scratch + g.DivisorFloats + (nint)g.BlockRows * g.RowFloats;

    /// <summary>Pools <paramref name="planes"/> consecutive input planes into as many output planes.</summary>
    public static void Planes(SimdLevel level, float* src, float* dst, int planes, in PoolGeometry g, bool max, bool includePad, float* scratch) =>
        Planes(level, src, dst, planes, 0, g.OH, g, max, includePad, scratch);

    /// <summary>Output rows [<paramref name="row0"/>, <paramref name="row1"/>) of <paramref name="planes"/> consecutive planes
    /// (<paramref name="src"/> and <paramref name="dst"/> point at the planes' starts, not the rows').</summary>
    public static void Planes(SimdLevel level, float* src, float* dst, int planes, int row0, int row1, in PoolGeometry g, bool max, bool includePad, float* scratch)
    {
        bool max3x3 = max && (IsMax3x3Stride2(g) || IsMax3x3Stride1(g))
            && (level == SimdLevel.Vector512 && Avx512F.IsSupported && Avx512DQ.IsSupported || level == SimdLevel.Vector256 && Avx2.IsSupported);
        if (max3x3)
        {
            Max3x3(level, src, dst, planes, g, row0, row1, scratch);
            return;
        }

        Prepare(g, scratch, max, includePad);
        if (level == SimdLevel.Vector512 && Avx512F.IsSupported)
        {
            if (max) Planes<System.Runtime.Intrinsics.Vector512<float>, Lanes512, MaxReduce>(src, dst, planes, g, includePad, scratch, row0, row1);
            else Planes<System.Runtime.Intrinsics.Vector512<float>, Lanes512, SumReduce>(src, dst, planes, g, includePad, scratch, row0, row1);
        }
        else if (level == SimdLevel.Vector256 && Avx2.IsSupported)
        {
            if (max) Planes<System.Runtime.Intrinsics.Vector256<float>, Lanes256, MaxReduce>(src, dst, planes, g, includePad, scratch, row0, row1);
            else Planes<System.Runtime.Intrinsics.Vector256<float>, Lanes256, SumReduce>(src, dst, planes, g, includePad, scratch, row0, row1);
        }
        else
        {
            PlanesScalar(src, dst, planes, row0, row1, g, max, includePad, scratch);
        }
    }

    /// <summary>A 3x3 max pool at stride 1 or 2 along the row (<see cref="IsMax3x3Stride1"/>, <see cref="IsMax3x3Stride2"/>) at
    /// <paramref name="level"/> (Vector512 or Vector256), output rows [<paramref name="row0"/>, <paramref name="row1"/>) of each plane, each row from its
    /// window's input rows in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Max3x3(SimdLevel level, float* src, float* dst, int planes, in PoolGeometry g, int row0, int row1, float* scratch)
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
                int room = (row1 - oy) * g.OW;
                bool exact = level == SimdLevel.Vector512
                    ? g.SW == 2 ? Max3x3Stride2Row(r0, r1, r2, g.W, g.Left, outRow, g.OW, room) : Max3x3Stride1Row(r0, r1, r2, g.W, g.Left, outRow, g.OW, room)
                    : g.SW == 2 ? Max3x3Stride2Row256(r0, r1, r2, g.W, g.Left, outRow, g.OW, room) : Max3x3Stride1Row256(r0, r1, r2, g.W, g.Left, outRow, g.OW, room);
                if (!exact) RowScalar(input, outRow, oy, g, max: true, includePad: false, ScalarRow(g, scratch), scratch);
            }
        }
    }

    /// <summary>The scalar twin: the same separable order, one float at a time.</summary>
    private static void PlanesScalar(float* src, float* dst, int planes, int row0, int row1, in PoolGeometry g, bool max, bool includePad, float* scratch)
    {
        float* divisors = scratch, row = ScalarRow(g, scratch);
        long inPlane = (long)g.H * g.W, outPlane = (long)g.OH * g.OW;
        for (int plane = 0; plane < planes; plane++)
            for (int oy = row0; oy < row1; oy++)
                RowScalar(src + plane * inPlane, dst + plane * outPlane + (long)oy * g.OW, oy, g, max, includePad, row, divisors);
    }

    /// <summary>
    /// Each output column's divisor, and the row buffers set to the reduction's identity: the rows write only
    /// their W reduced columns, so the padding and the slack the vector path reads past the last window keep it
    /// for every row of every plane.
    /// </summary>
    internal static void Prepare(in PoolGeometry g, float* scratch, bool max, bool includePad)
    {
        float identity = max ? float.NegativeInfinity : -0f;
        float* divisors = scratch;
        new Span<float>(scratch + g.DivisorFloats, g.BlockRows * g.RowFloats).Fill(identity);

        for (int ox = 0; ox < g.DivisorFloats; ox++)
        {
            int wx = ox * g.SW - g.Left, x0 = Math.Max(wx, 0), x1 = Math.Min(wx + g.KW, g.W);
            divisors[ox] = ox >= g.OW ? 1f : includePad ? Math.Min(wx + g.KW, g.W + g.Right) - wx : x1 - x0;
        }
    }

    /// <summary>
    /// Output row <paramref name="oy"/> of one plane, scalar: the twin of the vector row, and its way with NaN.
    /// It reads no padding: a window clipped by it reduces only its cells inside, which gives the same bits as
    /// the vector path's identity cells (x max -inf is x, -0 + x is x).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowScalar(float* src, float* output, int oy, in PoolGeometry g, bool max, bool includePad, float* reduced, float* divisors)
    {
        (int y0, int count, float rowDivisor) = Rows(g, oy, includePad);
        float* first = src + (nint)y0 * g.W;
        for (int x = 0; x < g.W; x++)
        {
            float acc = first[x];
            for (int r = 1; r < count; r++) acc = max ? Math.Max(acc, first[(nint)r * g.W + x]) : acc + first[(nint)r * g.W + x];
            reduced[x] = acc;
        }

        ColumnsScalar(output, g, max, rowDivisor, reduced, divisors);
    }

    /// <summary>The outputs of a row from its W reduced columns: each window's columns inside the row, left to right, then the divisor.</summary>
    private static void ColumnsScalar(float* output, in PoolGeometry g, bool max, float rowDivisor, float* reduced, float* divisors)
    {
        for (int ox = 0; ox < g.OW; ox++)
        {
            int wx = ox * g.SW - g.Left, x0 = Math.Max(wx, 0), x1 = Math.Min(wx + g.KW, g.W);
            float acc = reduced[x0];
            for (int x = x0 + 1; x < x1; x++) acc = max ? Math.Max(acc, reduced[x]) : acc + reduced[x];
            output[ox] = max ? acc : acc / (rowDivisor * divisors[ox]);
        }
    }

    /// <summary>Output row <paramref name="oy"/>'s first input row, how many it reads, and the rows its mean's divisor counts.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (int First, int Count, float RowDivisor) Rows(in PoolGeometry g, int oy, bool includePad)
    {
        int wy = oy * g.SH - g.Top;
        int y0 = Math.Max(wy, 0), y1 = Math.Min(wy + g.KH, g.H);
        return (y0, y1 - y0, includePad ? Math.Min(wy + g.KH, g.H + g.Bottom) - wy : y1 - y0);
    }

    /// <summary>The plain loop: each window read cell by cell. What the separable paths are tested against.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PlaneReference(float* src, float* dst, int h, int w, int kh, int kw, int sh, int sw, int top, int left, int bottom, int right,
        int oh, int ow, bool max, bool includePad)
    {
        for (int oy = 0; oy < oh; oy++)
        {
            int wy = oy * sh - top; // the window's first row, in input coordinates (negative in the top padding)
            int y0 = Math.Max(wy, 0), y1 = Math.Min(wy + kh, h);
            int paddedRows = Math.Min(wy + kh, h + bottom) - wy;
            for (int ox = 0; ox < ow; ox++)
            {
                int wx = ox * sw - left;
                int x0 = Math.Max(wx, 0), x1 = Math.Min(wx + kw, w);
                float acc = max ? float.NegativeInfinity : 0f;
                for (int y = y0; y < y1; y++)
                {
                    float* row = src + (nint)y * w;
                    for (int x = x0; x < x1; x++) acc = max ? MathF.Max(acc, row[x]) : acc + row[x];
                }

                if (!max)
                {
                    int count = includePad ? paddedRows * (Math.Min(wx + kw, w + right) - wx) : (y1 - y0) * (x1 - x0);
                    acc /= count;
                }

                dst[oy * ow + ox] = acc;
            }
        }
    }
}
