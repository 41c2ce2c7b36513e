using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnService.Engine.Kernels;

/// <summary>
/// <see cref="Winograd"/>'s transforms with AVX2, eight tiles at a time, one per lane: a run of up to eight tiles side by side
/// in one tile row, or two tile rows of four. Down the columns the rows are plain vectors over x; along the rows a tile's
/// six inputs are four floats apart, so four vectors (eight tiles' first four columns, a tile to a 128-bit half) are transposed within each half to
/// give one vector per column, and back again for the output. The operations are <see cref="Winograd.InputColumn"/>'s and
/// <see cref="Winograd.OutputColumn"/>'s, lane by lane: the same bits as the reference.
/// </summary>
internal static unsafe class Winograd256
{
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>Floats a column pass writes per row of the transformed tile: five vectors, 34 wanted (eight tiles four
    /// apart, six wide) and the row transposes' last loads; or, for a pair of tile rows, three vectors each.</summary>
    public const int ColumnFloats = 48;

    /// <summary>Floats of the scratch <see cref="InputRun"/> and <see cref="OutputRun"/> need.</summary>
    public const int ScratchFloats = Winograd.Alpha * ColumnFloats;

    /// <summary>
    /// V = B^T d B for <paramref name="count"/> (1-8) tiles side by side: tile e's input starts at column x0 + 4e of the six
    /// rows rows[0..5] (a row past the padded plane is a row of zeros); columns at or past <paramref name="width"/> read as
    /// zero. Point xi of tile e goes to v[xi * pointStride + e]. With <paramref name="pairedRows"/>, eight tiles of two tile
    /// rows four tiles wide (13x13 to 16x16 maps, whose runs would otherwise fill half the lanes): tiles 0-3 from rows[0..5],
    /// tiles 4-7 from rows[4..9], the tile row below.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void InputRun(float** rows, int x0, int width, int count, bool pairedRows, float* v, nint pointStride, float* scratch)
    {
        // Down the columns into scratch, [rho][48]: one tile row's five vectors, or each of two tile rows' three (at 0 and 24).
        float* second;
        if (pairedRows)
        {
            ColumnPass(rows, x0, width, 3, scratch);
            ColumnPass(rows + 4, x0, width, 3, scratch + 24);
            second = scratch + 24;
        }
        else
        {
            ColumnPass(rows, x0, width, 5, scratch);
            second = scratch + 16;
        }

        // Along the rows: each row's six columns per tile gathered into lanes, then transformed.
        for (int rho = 0; rho < Winograd.Alpha; rho++)
        {
            float* t = scratch + rho * ColumnFloats, tb = second + rho * ColumnFloats;
            // Tiles k and k + 4 paired in the halves of one vector (positions 4k.. of the first tiles and of the second: in one
            // tile row, 16 floats on), so that the transpose within halves gives the tiles in natural order, no lane permute
            // after it; columns 4 and 5 are columns 0 and 1 one tile on. The halves come from whole-vector loads at the column
            // pass's own offsets: a load four floats on would straddle two of its stores and wait for both to retire (the conv
            // pair 1.13x with the loops in WinogradConv, Zen 3).
            Vector256<float> a0 = Vector256.Load(t), a1 = Vector256.Load(t + 8), a2 = Vector256.Load(t + 16);
            Vector256<float> b0 = Vector256.Load(tb), b1 = Vector256.Load(tb + 8), b2 = Vector256.Load(tb + 16);
            Vector256<float> q0 = Avx.Permute2x128(a0, b0, 0x20), q1 = Avx.Permute2x128(a0, b0, 0x31), q2 = Avx.Permute2x128(a1, b1, 0x20), q3 = Avx.Permute2x128(a1, b1, 0x31);
            Transpose4(q0, q1, q2, q3, out var c0, out var c1, out var c2, out var c3);
            Transpose4(q1, q2, q3, Avx.Permute2x128(a2, b2, 0x20), out var c4, out var c5, out _, out _);
            InputColumn(c0, c1, c2, c3, c4, c5, out var v0, out var v1, out var v2, out var v3, out var v4, out var v5);
            float* to = v + rho * Winograd.Alpha * pointStride;
            Lanes256.StoreFirst(to, v0, count);
            Lanes256.StoreFirst(to + pointStride, v1, count);
            Lanes256.StoreFirst(to + 2 * pointStride, v2, count);
            Lanes256.StoreFirst(to + 3 * pointStride, v3, count);
            Lanes256.StoreFirst(to + 4 * pointStride, v4, count);
            Lanes256.StoreFirst(to + 5 * pointStride, v5, count);
        }
    }

    /// <summary>B^T down the columns of rows[0..5] from x0, <paramref name="vectors"/> vectors along, into t[rho * ColumnFloats + x].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ColumnPass(float** rows, int x0, int width, int vectors, float* t)
    {
        float* r0 = rows[0], r1 = rows[1], r2 = rows[2], r3 = rows[3], r4 = rows[4], r5 = rows[5];
        for (int k = 0; k < 8 * vectors; k += 8)
        {
            int x = x0 + k, left = width - x;
            Vector256<float> d0, d1, d2, d3, d4, d5;
            if (left >= 8)
            {
                d0 = Vector256.Load(r0 + x); d1 = Vector256.Load(r1 + x); d2 = Vector256.Load(r2 + x);
                d3 = Vector256.Load(r3 + x); d4 = Vector256.Load(r4 + x); d5 = Vector256.Load(r5 + x);
            }
            else
            {
                int n = Math.Max(left, 0);
                d0 = Lanes256.LoadFirst(r0 + x, n); d1 = Lanes256.LoadFirst(r1 + x, n); d2 = Lanes256.LoadFirst(r2 + x, n);
                d3 = Lanes256.LoadFirst(r3 + x, n); d4 = Lanes256.LoadFirst(r4 + x, n); d5 = Lanes256.LoadFirst(r5 + x, n);
            }

            InputColumn(d0, d1, d2, d3, d4, d5, out var t0, out var t1, out var t2, out var t3, out var t4, out var t5);
            t0.Store(t + k); t1.Store(t + ColumnFloats + k); t2.Store(t + 2 * ColumnFloats + k);
            t3.Store(t + 3 * ColumnFloats + k); t4.Store(t + 4 * ColumnFloats + k); t5.Store(t + 5 * ColumnFloats + k);
        }
    }

    /// <summary>
    /// Y = A^T M A + bias (then the ReLU) for eight tiles, point xi of tile e at m[xi * pointStride + e] (lanes past the run
    /// are read and dropped). Tiles 0-3 go to <paramref name="output"/> (output row i at output + i * rowStride, its first
    /// <paramref name="columns"/> floats, at most 16, for i below <paramref name="rows"/>), tiles 4-7 to
    /// <paramref name="second"/> likewise: 16 floats along the same rows for a run in one tile row, or the tile row below.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void OutputRun(float* m, nint pointStride, float bias, bool relu, float* output, nint rowStride, int rows, int columns,
        float* second, int secondRows, int secondColumns, float* scratch)
    {
        // Down the columns: A^T M, [i][sigma] vectors into scratch.
        for (int s = 0; s < Winograd.Alpha; s++)
        {
            float* at = m + s * pointStride;
            nint rowPoints = Winograd.Alpha * pointStride;
            OutputColumn(Vector256.Load(at), Vector256.Load(at + rowPoints), Vector256.Load(at + 2 * rowPoints), Vector256.Load(at + 3 * rowPoints),
                Vector256.Load(at + 4 * rowPoints), Vector256.Load(at + 5 * rowPoints), out var z0, out var z1, out var z2, out var z3);
            z0.Store(scratch + s * 8); z1.Store(scratch + (Winograd.Alpha + s) * 8);
            z2.Store(scratch + (2 * Winograd.Alpha + s) * 8); z3.Store(scratch + (3 * Winograd.Alpha + s) * 8);
        }

        // Along the rows, then back to positions: the transpose within halves leaves tiles k and k + 4 in vector k's halves,
        // and the halves regrouped give tiles 0-3's sixteen positions in two vectors, tiles 4-7's in two more.
        Vector256<float> b = Vector256.Create(bias);
        for (int i = 0; i < Math.Max(rows, secondRows); i++)
        {
            float* z = scratch + i * Winograd.Alpha * 8;
            OutputColumn(Vector256.Load(z), Vector256.Load(z + 8), Vector256.Load(z + 16), Vector256.Load(z + 24), Vector256.Load(z + 32), Vector256.Load(z + 40),
                out var y0, out var y1, out var y2, out var y3);
            y0 += b; y1 += b; y2 += b; y3 += b;
            if (relu)
            {
                y0 = Vector256.Max(y0, Vector256<float>.Zero); y1 = Vector256.Max(y1, Vector256<float>.Zero);
                y2 = Vector256.Max(y2, Vector256<float>.Zero); y3 = Vector256.Max(y3, Vector256<float>.Zero);
            }

            Transpose4(y0, y1, y2, y3, out var q0, out var q1, out var q2, out var q3);
            if (i < rows) StoreRow(output + i * rowStride, Avx.Permute2x128(q0, q1, 0x20), Avx.Permute2x128(q2, q3, 0x20), columns);
            if (i < secondRows) StoreRow(second + i * rowStride, Avx.Permute2x128(q0, q1, 0x31), Avx.Permute2x128(q2, q3, 0x31), secondColumns);
        }
    }

    /// <summary>The first <paramref name="columns"/> (at most 16; none if not positive) of p0 then p1 to <paramref name="row"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* row, Vector256<float> p0, Vector256<float> p1, int columns)
    {
        if (columns <= 0) return;
        Lanes256.StoreFirst(row, p0, columns);
        if (columns > 8) Lanes256.StoreFirst(row + 8, p1, columns - 8);
    }

    /// <summary><see cref="Winograd.InputColumn"/> lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputColumn(Vector256<float> d0, Vector256<float> d1, Vector256<float> d2, Vector256<float> d3, Vector256<float> d4, Vector256<float> d5,
        out Vector256<float> t0, out Vector256<float> t1, out Vector256<float> t2, out Vector256<float> t3, out Vector256<float> t4, out Vector256<float> t5)
    {
        Vector256<float> four = Vector256.Create(4f), minusFour = Vector256.Create(-4f), minusFive = Vector256.Create(-5f);
        t0 = Vector256.FusedMultiplyAdd(four, d0, Vector256.FusedMultiplyAdd(minusFive, d2, d4));
        t5 = Vector256.FusedMultiplyAdd(four, d1, Vector256.FusedMultiplyAdd(minusFive, d3, d5));
        Vector256<float> a = Vector256.FusedMultiplyAdd(minusFour, d2, d4), b = Vector256.FusedMultiplyAdd(minusFour, d1, d3);
        t1 = a + b;
        t2 = a - b;
        Vector256<float> c = d4 - d2, e = Vector256.Create(2f) * (d3 - d1);
        t3 = c + e;
        t4 = c - e;
    }

    /// <summary><see cref="Winograd.OutputColumn"/> lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputColumn(Vector256<float> m0, Vector256<float> m1, Vector256<float> m2, Vector256<float> m3, Vector256<float> m4, Vector256<float> m5,
        out Vector256<float> y0, out Vector256<float> y1, out Vector256<float> y2, out Vector256<float> y3)
    {
        Vector256<float> p = m1 + m2, q = m1 - m2, r = m3 + m4, s = m3 - m4;
        y0 = m0 + p + r;
        y1 = Vector256.FusedMultiplyAdd(Vector256.Create(2f), s, q);
        y2 = Vector256.FusedMultiplyAdd(Vector256.Create(4f), r, p);
        y3 = Vector256.FusedMultiplyAdd(Vector256.Create(8f), s, q) + m5;
    }

    /// <summary>A 4 x 4 transpose within each 128-bit half: o_j's low half holds element j of a0..a3's low halves, its high
    /// half element j of their high halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4(Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3,
        out Vector256<float> o0, out Vector256<float> o1, out Vector256<float> o2, out Vector256<float> o3)
    {
        Vector256<float> t0 = Avx.UnpackLow(a0, a1), t1 = Avx.UnpackHigh(a0, a1), t2 = Avx.UnpackLow(a2, a3), t3 = Avx.UnpackHigh(a2, a3);
        o0 = Avx.Shuffle(t0, t2, 0x44);
        o1 = Avx.Shuffle(t0, t2, 0xEE);
        o2 = Avx.Shuffle(t1, t3, 0x44);
        o3 = Avx.Shuffle(t1, t3, 0xEE);
    }
}
