using System.Runtime.CompilerServices;

namespace CnnService.Engine.Kernels;

internal static unsafe partial class PoolWindow
{
    /// <summary>The reduction a vector row runs: the type argument compiles each to its own straight-line loop.</summary>
    internal interface IReduce
    {
        static abstract bool IsMax { get; }
        static abstract TV Apply<TV, TL>(TV a, TV b) where TV : struct where TL : IPoolLanes<TV>;
    }

    internal readonly struct MaxReduce : IReduce
    {
        public static bool IsMax => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Apply<TV, TL>(TV a, TV b) where TV : struct where TL : IPoolLanes<TV> => TL.MaxOrdered(a, b);
    }

    internal readonly struct SumReduce : IReduce
    {
        public static bool IsMax => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Apply<TV, TL>(TV a, TV b) where TV : struct where TL : IPoolLanes<TV> => TL.Add(a, b);
    }

    /// <summary>
    /// The vector path at one width, a block of output rows at a time: first their input rows reduced, then
    /// their columns (see <see cref="PoolGeometry.BlockRows"/>). Stride 2 splits each reduced row into its even
    /// and odd padded columns as it stores it (one permute each per two vectors), so its taps are plain loads;
    /// strides of 3 and more reduce the columns scalar. Internal so the tests can run the AVX2 forms on a CPU
    /// with AVX-512.
    /// </summary>
    internal static void Planes<TV, TL, TOp>(float* src, float* dst, int planes, in PoolGeometry g, bool includePad, float* scratch) where TV : struct
        where TL : IPoolLanes<TV> where TOp : struct, IReduce => Planes<TV, TL, TOp>(src, dst, planes, g, includePad, scratch, 0, g.OH);

    /// <summary>As above, output rows [<paramref name="row0"/>, <paramref name="row1"/>) of each plane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Planes<TV, TL, TOp>(float* src, float* dst, int planes, in PoolGeometry g, bool includePad, float* scratch, int row0, int row1)
        where TV : struct where TL : IPoolLanes<TV> where TOp : struct, IReduce
    {
        float* divisors = scratch, rows = scratch + g.DivisorFloats;
        long inPlane = (long)g.H * g.W, outPlane = (long)g.OH * g.OW;
        int block = g.BlockRows;
        ulong nanRows = 0; // bit i: block row i read a NaN
        for (int plane = 0; plane < planes; plane++)
        {
            float* input = src + plane * inPlane, output = dst + plane * outPlane;
            for (int oy0 = row0; oy0 < row1; oy0 += block)
            {
                int n = Math.Min(block, row1 - oy0);
                for (int i = 0; i < n; i++)
                {
                    (int y0, int count, _) = Rows(g, oy0 + i, includePad);
                    float* first = input + (nint)y0 * g.W, row = rows + (nint)i * g.RowFloats;
                    bool clean = g.SW == 2
                        ? ReduceRowsSplit<TV, TL, TOp>(first, count, g.W, row, g.PhaseFloats, g.Left)
                        : ReduceRows<TV, TL, TOp>(first, count, g.W, row + g.Left);
                    if (!clean) nanRows |= 1UL << i;
                }

                for (int i = 0; i < n; i++)
                {
                    int oy = oy0 + i;
                    float* row = rows + (nint)i * g.RowFloats, outRow = output + (long)oy * g.OW;
                    if ((nanRows >> i & 1) != 0)
                    {
                        // Maybe a NaN among the rows: the vector max would drop it, the scalar twin keeps it.
                        RowScalar(input, outRow, oy, g, max: true, includePad, ScalarRow(g, scratch), divisors);
                        continue;
                    }

                    float rowDivisor = Rows(g, oy, includePad).RowDivisor;
                    if (g.SW == 1) Columns<TV, TL, TOp, Stride1>(outRow, g, rowDivisor, row, divisors);
                    else if (g.SW == 2) Columns<TV, TL, TOp, Stride2>(outRow, g, rowDivisor, row, divisors);
                    else ColumnsScalar(outRow, g, TOp.IsMax, rowDivisor, row + g.Left, divisors);
                }

                nanRows = 0;
            }
        }
    }

    /// <summary>
    /// reduced[x] = the window's <paramref name="count"/> rows at column x reduced top to bottom, for x below
    /// <paramref name="w"/>; the tail is one masked vector. False when a max may have read a NaN: a max also
    /// sums what it reads, and a NaN anywhere makes that sum NaN. The sum can be NaN without one too (+inf and
    /// -inf both read), which only sends the row to the scalar twin: three adds a column where checking each
    /// value for NaN took nine instructions (compare, mask to vector, or).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool ReduceRows<TV, TL, TOp>(float* first, int count, int w, float* reduced)
        where TV : struct where TL : IPoolLanes<TV> where TOp : struct, IReduce
    {
        TV probe = default;
        int x = 0;
        for (; x + TL.Count <= w; x += TL.Count) TL.Store(reduced + x, Column<TV, TL, TOp>(first + x, count, w, TL.Count, ref probe));
        if (x < w) TL.StoreFirst(reduced + x, Column<TV, TL, TOp>(first + x, count, w, w - x, ref probe), w - x);
        return !TOp.IsMax || !TL.AnyNaN(probe);
    }

    /// <summary>
    /// <see cref="ReduceRows"/> for stride 2, stored split: padded column p = Left + x goes to phase p &amp; 1 at
    /// p / 2, so the even x go to phase Left &amp; 1 and the odd x to the other, each from its own offset.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool ReduceRowsSplit<TV, TL, TOp>(float* first, int count, int w, float* row, int phase, int left)
        where TV : struct where TL : IPoolLanes<TV> where TOp : struct, IReduce
    {
        float* evens = row + (left & 1) * phase + (left >> 1), odds = row + ((left + 1) & 1) * phase + ((left + 1) >> 1);
        TV probe = default;
        int x = 0, v = TL.Count;
        for (; x + 2 * v <= w; x += 2 * v)
        {
            TV a = Column<TV, TL, TOp>(first + x, count, w, v, ref probe), b = Column<TV, TL, TOp>(first + x + v, count, w, v, ref probe);
            TL.Deinterleave(a, b, out TV even, out TV odd);
            TL.Store(evens + x / 2, even);
            TL.Store(odds + x / 2, odd);
        }

        if (x < w)
        {
            int n = w - x;
            TV a = Column<TV, TL, TOp>(first + x, count, w, Math.Min(n, v), ref probe);
            TV b = n > v ? Column<TV, TL, TOp>(first + x + v, count, w, n - v, ref probe) : a;
            TL.Deinterleave(a, b, out TV even, out TV odd);
            TL.StoreFirst(evens + x / 2, even, (n + 1) / 2);
            TL.StoreFirst(odds + x / 2, odd, n / 2);
        }

        return !TOp.IsMax || !TL.AnyNaN(probe);
    }

    /// <summary>
    /// The <paramref name="count"/> rows at p reduced top to bottom, for the first <paramref name="n"/> columns
    /// (a whole vector, or a masked one that reads no further); a max adds the rows' sum to the NaN probe.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Column<TV, TL, TOp>(float* p, int count, int w, int n, ref TV probe)
        where TV : struct where TL : IPoolLanes<TV> where TOp : struct, IReduce
    {
        if (n == TL.Count && count == 3)
        {
            // The 3x3 windows of every torchvision pool but the 2x2 ones, unrolled.
            TV a = TL.Load(p), b = TL.Load(p + w), c = TL.Load(p + 2 * w);
            if (TOp.IsMax) probe = TL.Add(probe, TL.Add(TL.Add(a, b), c));
            return TOp.Apply<TV, TL>(TOp.Apply<TV, TL>(a, b), c);
        }

        TV acc = n == TL.Count ? TL.Load(p) : TL.LoadFirst(p, n), sum = acc;
        for (int r = 1; r < count; r++)
        {
            float* q = p + (nint)r * w;
            TV v = n == TL.Count ? TL.Load(q) : TL.LoadFirst(q, n);
            acc = TOp.Apply<TV, TL>(acc, v);
            if (TOp.IsMax) sum = TL.Add(sum, v);
        }

        if (TOp.IsMax) probe = TL.Add(probe, sum);
        return acc;
    }

    /// <summary>How a vector of outputs gathers tap j of its windows from the row buffer.</summary>
    internal interface ITaps
    {
        static abstract TV Tap<TV, TL>(float* row, int phase, int ox, int j) where TV : struct where TL : IPoolLanes<TV>;
    }

    internal readonly struct Stride1 : ITaps
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Tap<TV, TL>(float* row, int phase, int ox, int j) where TV : struct where TL : IPoolLanes<TV> => TL.Load(row + ox + j);
    }

    internal readonly struct Stride2 : ITaps
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Tap<TV, TL>(float* row, int phase, int ox, int j) where TV : struct where TL : IPoolLanes<TV> =>
            TL.Load(row + (j & 1) * phase + ox + (j >> 1)); // padded column 2 * ox + j: phase j & 1, at ox + j / 2
    }

    /// <summary>
    /// The outputs of one row from the reduced row buffer, a vector at a time: each window's columns left to
    /// right, then the divisor. The last vector is masked; it reads the buffer's slack, never stores past OW.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Columns<TV, TL, TOp, TTaps>(float* output, in PoolGeometry g, float rowDivisor, float* row, float* divisors)
        where TV : struct where TL : IPoolLanes<TV> where TOp : struct, IReduce where TTaps : struct, ITaps
    {
        int ow = g.OW, kw = g.KW, phase = g.PhaseFloats;
        for (int ox = 0; ox < ow; ox += TL.Count)
        {
            TV acc = TTaps.Tap<TV, TL>(row, phase, ox, 0);
            for (int j = 1; j < kw; j++) acc = TOp.Apply<TV, TL>(acc, TTaps.Tap<TV, TL>(row, phase, ox, j));
            if (!TOp.IsMax) acc = TL.Divide(acc, TL.Multiply(TL.Load(divisors + ox), rowDivisor));
            if (ox + TL.Count <= ow) TL.Store(output + ox, acc);
            else TL.StoreFirst(output + ox, acc, ow - ox);
        }
    }
}
