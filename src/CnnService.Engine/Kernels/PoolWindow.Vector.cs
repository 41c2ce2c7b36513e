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

    /// <summary>The vector path at one width; internal so the tests can run the AVX2 forms on a CPU with AVX-512.</summary>
    internal static void Planes<TV, TL, TOp>(float* src, float* dst, int planes, in PoolGeometry g, bool includePad, float* row, float* divisors)
        where TV : struct where TL : IPoolLanes<TV> where TOp : struct, IReduce
    {
        long inPlane = (long)g.H * g.W, outPlane = (long)g.OH * g.OW;
        for (int plane = 0; plane < planes; plane++)
        {
            float* input = src + plane * inPlane, output = dst + plane * outPlane;
            for (int oy = 0; oy < g.OH; oy++)
            {
                float* outRow = output + (long)oy * g.OW;
                (int y0, int count, float rowDivisor) = Rows(g, oy, includePad);
                if (!ReduceRows<TV, TL, TOp>(input + (nint)y0 * g.W, count, g.W, row + g.Left))
                {
                    // A NaN among the rows: the vector max would drop it, the scalar twin keeps it.
                    RowScalar(input, outRow, oy, g, max: true, includePad, row, divisors);
                    continue;
                }

                if (g.SW == 1) Columns<TV, TL, TOp, Stride1>(outRow, g, rowDivisor, row, divisors);
                else if (g.SW == 2) Columns<TV, TL, TOp, Stride2>(outRow, g, rowDivisor, row, divisors);
                else ColumnsScalar(outRow, 0, g, TOp.IsMax, rowDivisor, row, divisors);
            }
        }
    }

    /// <summary>
    /// reduced[x] = the window's <paramref name="count"/> rows at column x reduced top to bottom, for x below
    /// <paramref name="w"/>; the tail is one masked vector. False when a max reads a NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool ReduceRows<TV, TL, TOp>(float* first, int count, int w, float* reduced)
        where TV : struct where TL : IPoolLanes<TV> where TOp : struct, IReduce
    {
        TV nan = default;
        int x = 0;
        for (; x + TL.Count <= w; x += TL.Count)
        {
            float* p = first + x;
            TV acc = TL.Load(p);
            if (TOp.IsMax && count == 1) nan = TL.FlagNaN(nan, acc, acc);
            for (int r = 1; r < count; r++)
            {
                TV v = TL.Load(p + (nint)r * w);
                if (TOp.IsMax) nan = TL.FlagNaN(nan, acc, v); // acc is NaN only if a row before was: flagged then
                acc = TOp.Apply<TV, TL>(acc, v);
            }

            TL.Store(reduced + x, acc);
        }

        if (x < w)
        {
            int n = w - x;
            float* p = first + x;
            TV acc = TL.LoadFirst(p, n);
            if (TOp.IsMax && count == 1) nan = TL.FlagNaN(nan, acc, acc);
            for (int r = 1; r < count; r++)
            {
                TV v = TL.LoadFirst(p + (nint)r * w, n);
                if (TOp.IsMax) nan = TL.FlagNaN(nan, acc, v);
                acc = TOp.Apply<TV, TL>(acc, v);
            }

            TL.StoreFirst(reduced + x, acc, n);
        }

        return !TOp.IsMax || !TL.AnyFlag(nan);
    }

    /// <summary>How a vector of outputs gathers tap j of its windows from the row buffer.</summary>
    internal interface ITaps
    {
        static abstract TV Tap<TV, TL>(float* row, int ox, int j) where TV : struct where TL : IPoolLanes<TV>;
    }

    internal readonly struct Stride1 : ITaps
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Tap<TV, TL>(float* row, int ox, int j) where TV : struct where TL : IPoolLanes<TV> => TL.Load(row + ox + j);
    }

    internal readonly struct Stride2 : ITaps
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Tap<TV, TL>(float* row, int ox, int j) where TV : struct where TL : IPoolLanes<TV> => TL.Evens(row + 2 * ox + j);
    }

    /// <summary>
    /// The outputs of one row from the reduced row buffer, a vector at a time: each window's columns left to
    /// right, then the divisor. The last vector is masked; it reads the buffer's slack, never stores past OW.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Columns<TV, TL, TOp, TTaps>(float* output, in PoolGeometry g, float rowDivisor, float* row, float* divisors)
        where TV : struct where TL : IPoolLanes<TV> where TOp : struct, IReduce where TTaps : struct, ITaps
    {
        int ow = g.OW, kw = g.KW;
        for (int ox = 0; ox < ow; ox += TL.Count)
        {
            TV acc = TTaps.Tap<TV, TL>(row, ox, 0);
            for (int j = 1; j < kw; j++) acc = TOp.Apply<TV, TL>(acc, TTaps.Tap<TV, TL>(row, ox, j));
            if (!TOp.IsMax) acc = TL.Divide(acc, TL.Multiply(TL.Load(divisors + ox), rowDivisor));
            if (ox + TL.Count <= ow) TL.Store(output + ox, acc);
            else TL.StoreFirst(output + ox, acc, ow - ox);
        }
    }
}
