using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnService.Engine.Kernels;

/// <summary>
/// 8 x 24 tile with AVX2 + FMA, run as two 4 x 24 halves (rows 0-3, then 4-7) over the same B panel: each half keeps
/// 12 accumulators, three B vectors and one broadcast of A, the 16 ymm registers of a machine without AVX-512, and
/// issues 12 FMAs against 7 loads. The 8 x 8 tile before it issued 8 FMAs against 9 loads (one B vector, eight
/// broadcasts), so loads, not the FMA pipes, set its pace; an 8 x 16 one (two 4 x 16 halves, 8 accumulators) had too few
/// accumulators to cover the FMA latency: the 3x3 64->64 layer 2.39-2.45 ms at 16 columns, 2.22-2.25 at 24, TinyVGG's
/// layers 13-16 % faster (Zen 4 as an AVX2-only CPU, one thread). The second half finds the panel (at most 256 x 24
/// floats, 24 KB) and A's block still in L1.
/// </summary>
internal readonly unsafe struct MicroKernel256 : IRowMicroKernel
{
    public static int MR => 8;
    public static int NR => 24;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(int k, float* a, float* b, float* bias, float* c, int ldc, int rows, bool accumulate, bool relu) =>
        Run(k, a, new PackedRows24(b), bias, c, ldc, rows, accumulate, relu);

    /// <summary>
    /// The tile's first <paramref name="columns"/>: at most 8 as one 8 x 8 pass (eight accumulators, as many as cover the
    /// FMA latency; two 4 x 8 halves would have four), at most 16 as two 4 x 16 halves, more as the whole tile. Stores only
    /// the vectors it computes. A 14x14 map's 196 positions leave a last panel of 4 columns, a batch of 64 one of 16.
    /// </summary>
    public static void Run(int k, float* a, float* b, float* bias, float* c, int ldc, int rows, int columns, bool accumulate, bool relu)
    {
        var panel = new PackedRows24(b);
        if (columns > 16)
        {
            Run(k, a, panel, bias, c, ldc, rows, accumulate, relu);
        }
        else if (columns > 8)
        {
            Halves<PackedRows24, TileColumns16>(k, a, panel, bias, c, ldc, rows, accumulate, relu);
        }
        else if (rows > 6) Columns8<TileRows8>(k, a, panel, bias, c, ldc, rows, accumulate, relu);
        else if (rows > 4) Columns8<TileRows6>(k, a, panel, bias, c, ldc, rows, accumulate, relu);
        else if (rows > 2) Columns8<TileRows4>(k, a, panel, bias, c, ldc, rows, accumulate, relu);
        else Columns8<TileRows2>(k, a, panel, bias, c, ldc, rows, accumulate, relu);
    }

    /// <summary>
    /// The same tile with B's rows taken from <paramref name="b"/>: a packed panel, or (implicit GEMM) the input itself.
    /// A short tile (the last rows of M) computes only its valid rows rounded up to an even count.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TRows>(int k, float* a, TRows b, float* bias, float* c, int ldc, int rows, bool accumulate, bool relu)
        where TRows : struct, IRowSource =>
        Halves<TRows, TileColumns24>(k, a, b, bias, c, ldc, rows, accumulate, relu);

    /// <summary>Rows [0, <paramref name="rows"/>) of the tile's first TColumns.Count columns as halves of 4 rows (or 2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Halves<TRows, TColumns>(int k, float* a, TRows b, float* bias, float* c, int ldc, int rows, bool accumulate, bool relu)
        where TRows : struct, IRowSource
        where TColumns : struct, ITileColumns
    {
        if (rows > 4)
        {
            Half<TRows, TileRows4, TColumns>(k, a, b, bias, c, ldc, 4, accumulate, relu);
            if (rows > 6) Half<TRows, TileRows4, TColumns>(k, a + 4, b, bias + 4, c + 4 * ldc, ldc, rows - 4, accumulate, relu);
            else Half<TRows, TileRows2, TColumns>(k, a + 4, b, bias + 4, c + 4 * ldc, ldc, rows - 4, accumulate, relu);
        }
        else if (rows > 2) Half<TRows, TileRows4, TColumns>(k, a, b, bias, c, ldc, rows, accumulate, relu);
        else Half<TRows, TileRows2, TColumns>(k, a, b, bias, c, ldc, rows, accumulate, relu);
    }

    /// <summary>Rows [0, <paramref name="rows"/>) (at most 4) of the tile's first TColumns.Count columns, A's column for step kk at a[kk * MR].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Half<TRows, TCount, TColumns>(int k, float* a, TRows b, float* bias, float* c, int ldc, int rows, bool accumulate, bool relu)
        where TRows : struct, IRowSource
        where TCount : struct, ITileRows
        where TColumns : struct, ITileColumns
    {
        // The products start from zero and the start value (bias, or the earlier blocks' sum) is added once at
        // the end: each depth block is its own partial sum, as in MLAS, not one running sum over all of K.
        Vector256<float> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
        Vector256<float> c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        // A native-width step index: the offset table (implicit GEMM) is indexed without a sign extension each step (the conv
        // pair 1.04x on one thread, 1.11x at batch 8 on two; MobileNet V2 1.03x / 1.01x; paired in one process, Zen 3).
        nint kk = 0, second = b.Second, third = b.Third;
        if (TRows.Run == 3)
        {
            // Three steps per row address (a 3x3 kernel's taps along a row, or a packed panel's next rows): with the
            // loop's bookkeeping shared, a step issues about 20 instructions, not 25. Alone on a core the two loops run alike;
            // beside another busy thread on the core (SMT, a neighbour on a shared VM) the instructions are what is
            // shared, and the 4 x 24 half over a 3x3 layer's rows ran at 78 % of its best against 65 % (AMD EPYC Zen 3).
            nint stride = b.Stride;
            for (nint end = k - 2; kk < end; kk += 3)
            {
                float* row = b.Row(kk);
                Step<TCount, TColumns>(row, 0, second, third, a, 0, ref c00, ref c01, ref c02, ref c10, ref c11, ref c12, ref c20, ref c21, ref c22, ref c30, ref c31, ref c32);
                Step<TCount, TColumns>(row, stride, second, third, a, 8, ref c00, ref c01, ref c02, ref c10, ref c11, ref c12, ref c20, ref c21, ref c22, ref c30, ref c31, ref c32);
                Step<TCount, TColumns>(row, 2 * stride, second, third, a, 16, ref c00, ref c01, ref c02, ref c10, ref c11, ref c12, ref c20, ref c21, ref c22, ref c30, ref c31, ref c32);
                a += 24;
            }
        }

        for (; kk < k; kk++)
        {
            Step<TCount, TColumns>(b.Row(kk), 0, second, third, a, 0, ref c00, ref c01, ref c02, ref c10, ref c11, ref c12, ref c20, ref c21, ref c22, ref c30, ref c31, ref c32);
            a += 8;
        }

        Finish<TColumns>(ref c00, ref c01, ref c02, c, bias[0], accumulate, relu);
        if (rows == 1) return;
        Finish<TColumns>(ref c10, ref c11, ref c12, c + ldc, bias[1], accumulate, relu);
        if (rows == 2) return;
        Finish<TColumns>(ref c20, ref c21, ref c22, c + 2 * ldc, bias[2], accumulate, relu);
        if (rows == 3) return;
        Finish<TColumns>(ref c30, ref c31, ref c32, c + 3 * ldc, bias[3], accumulate, relu);
    }

    /// <summary>One step of a half: B's row at <paramref name="row"/> + <paramref name="at"/> (its second and third vectors
    /// <paramref name="second"/> and <paramref name="third"/> further) times A's column at <paramref name="a"/> + <paramref name="from"/>,
    /// into the accumulators. Constant offsets become the loads' displacements (a run-time one, <see cref="ChannelRows"/>'s stride
    /// or an aligned panel's vectors, an index register: the same one instruction a load).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step<TCount, TColumns>(float* row, nint at, nint second, nint third, float* a, int from, ref Vector256<float> c00, ref Vector256<float> c01, ref Vector256<float> c02,
        ref Vector256<float> c10, ref Vector256<float> c11, ref Vector256<float> c12, ref Vector256<float> c20, ref Vector256<float> c21, ref Vector256<float> c22,
        ref Vector256<float> c30, ref Vector256<float> c31, ref Vector256<float> c32)
        where TCount : struct, ITileRows
        where TColumns : struct, ITileColumns
    {
        bool wide = TColumns.Count == 24; // else 16: the third vector's loads and multiply-adds fold away
        Vector256<float> b0 = Vector256.Load(row + at), b1 = Vector256.Load(row + (at + second)), b2 = wide ? Vector256.Load(row + (at + third)) : default;
        Vector256<float> x = Vector256.Create(a[from]);
        c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01); if (wide) c02 = Vector256.FusedMultiplyAdd(x, b2, c02);
        x = Vector256.Create(a[from + 1]);
        c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11); if (wide) c12 = Vector256.FusedMultiplyAdd(x, b2, c12);
        if (TCount.Count > 2)
        {
            x = Vector256.Create(a[from + 2]);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21); if (wide) c22 = Vector256.FusedMultiplyAdd(x, b2, c22);
            x = Vector256.Create(a[from + 3]);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31); if (wide) c32 = Vector256.FusedMultiplyAdd(x, b2, c32);
        }
    }

    /// <summary>Rows [0, <paramref name="rows"/>) (at most 8) of the tile's first 8 columns in one pass: one B vector and
    /// TCount.Count broadcasts a step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Columns8<TCount>(int k, float* a, PackedRows24 b, float* bias, float* c, int ldc, int rows, bool accumulate, bool relu)
        where TCount : struct, ITileRows
    {
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (nint kk = 0; kk < k; kk++)
        {
            Vector256<float> b0 = Vector256.Load(b.Row(kk));
            c0 = Vector256.FusedMultiplyAdd(Vector256.Create(a[0]), b0, c0);
            c1 = Vector256.FusedMultiplyAdd(Vector256.Create(a[1]), b0, c1);
            if (TCount.Count > 2)
            {
                c2 = Vector256.FusedMultiplyAdd(Vector256.Create(a[2]), b0, c2);
                c3 = Vector256.FusedMultiplyAdd(Vector256.Create(a[3]), b0, c3);
            }

            if (TCount.Count > 4)
            {
                c4 = Vector256.FusedMultiplyAdd(Vector256.Create(a[4]), b0, c4);
                c5 = Vector256.FusedMultiplyAdd(Vector256.Create(a[5]), b0, c5);
            }

            if (TCount.Count > 6)
            {
                c6 = Vector256.FusedMultiplyAdd(Vector256.Create(a[6]), b0, c6);
                c7 = Vector256.FusedMultiplyAdd(Vector256.Create(a[7]), b0, c7);
            }

            a += 8;
        }

        Vector256<float> unused = default;
        Finish<TileColumns8>(ref c0, ref unused, ref unused, c, bias[0], accumulate, relu);
        if (rows == 1) return;
        Finish<TileColumns8>(ref c1, ref unused, ref unused, c + ldc, bias[1], accumulate, relu);
        if (rows == 2) return;
        Finish<TileColumns8>(ref c2, ref unused, ref unused, c + 2 * ldc, bias[2], accumulate, relu);
        if (rows == 3) return;
        Finish<TileColumns8>(ref c3, ref unused, ref unused, c + 3 * ldc, bias[3], accumulate, relu);
        if (rows == 4) return;
        Finish<TileColumns8>(ref c4, ref unused, ref unused, c + 4 * ldc, bias[4], accumulate, relu);
        if (rows == 5) return;
        Finish<TileColumns8>(ref c5, ref unused, ref unused, c + 5 * ldc, bias[5], accumulate, relu);
        if (rows == 6) return;
        Finish<TileColumns8>(ref c6, ref unused, ref unused, c + 6 * ldc, bias[6], accumulate, relu);
        if (rows == 7) return;
        Finish<TileColumns8>(ref c7, ref unused, ref unused, c + 7 * ldc, bias[7], accumulate, relu);
    }

    /// <summary>One row of the tile, its first TColumns.Count columns: its start value added, clamped if asked, stored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish<TColumns>(ref Vector256<float> v0, ref Vector256<float> v1, ref Vector256<float> v2, float* c, float bias, bool accumulate, bool relu)
        where TColumns : struct, ITileColumns
    {
        int n = TColumns.Count;
        if (accumulate)
        {
            v0 += Vector256.Load(c);
            if (n > 8) v1 += Vector256.Load(c + 8);
            if (n > 16) v2 += Vector256.Load(c + 16);
        }
        else
        {
            Vector256<float> s = Vector256.Create(bias);
            v0 += s; v1 += s; v2 += s;
        }

        if (relu)
        {
            v0 = Vector256.Max(v0, Vector256<float>.Zero); v1 = Vector256.Max(v1, Vector256<float>.Zero); v2 = Vector256.Max(v2, Vector256<float>.Zero);
        }

        v0.Store(c);
        if (n > 8) v1.Store(c + 8);
        if (n > 16) v2.Store(c + 16);
    }
}

/// <summary>Columns of <see cref="MicroKernel256"/>'s tile computed, as a type, as <see cref="ITileRows"/> counts rows.</summary>
internal interface ITileColumns
{
    static abstract int Count { get; }
}

internal readonly struct TileColumns8 : ITileColumns { public static int Count => 8; }
internal readonly struct TileColumns16 : ITileColumns { public static int Count => 16; }
internal readonly struct TileColumns24 : ITileColumns { public static int Count => 24; }
