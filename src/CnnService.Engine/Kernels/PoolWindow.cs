using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnService.Engine.Kernels;

/// <summary>
/// Max or average pooling of one H x W plane with any window, stride and padding. Padding is
/// never read: max ignores it (as minus infinity would be), and the average divides either by
/// the window's cells inside the input (count_include_pad false, the default) or by the window's
/// cells inside the padded input (true), PyTorch's and ONNX Runtime's divisor: a window that
/// ceil_mode lets run past the bottom or right padding counts only up to its edge. Every window
/// holds at least one input cell (<see cref="Layers.Pool2D"/> makes sure), so no mean divides by 0.
/// <see cref="Plane"/> is separable: for each output row it first reduces the window's rows column by
/// column (contiguous, vectorised), then each window's columns of that one row; <see cref="PlaneReference"/>
/// is the plain window-by-window loop it is tested against, and the reference for <see cref="Pool2x2"/>.
/// </summary>
internal static unsafe class PoolWindow
{
    /// <summary>Widest row the separable path keeps on the stack; wider planes take the plain loop.</summary>
    private const int MaxStackRow = 4096;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Plane(float* src, float* dst, int h, int w, int kh, int kw, int sh, int sw, int top, int left, int bottom, int right,
        int oh, int ow, bool max, bool includePad)
    {
        if (w > MaxStackRow)
        {
            PlaneReference(src, dst, h, w, kh, kw, sh, sw, top, left, bottom, right, oh, ow, max, includePad);
            return;
        }

        // rows: the window's rows reduced column by column; windows: each full window of that row reduced, by its first column.
        float* rows = stackalloc float[w];
        float* windows = stackalloc float[w];
        int full = w - kw + 1; // windows that lie wholly inside the row
        for (int oy = 0; oy < oh; oy++)
        {
            int wy = oy * sh - top;
            int y0 = Math.Max(wy, 0), y1 = Math.Min(wy + kh, h);
            int paddedRows = Math.Min(wy + kh, h + bottom) - wy;
            if (max)
            {
                Reduce<MaxOperator>(src + (nint)y0 * w, rows, w, w, y1 - y0);
                Reduce<MaxOperator>(rows, windows, 1, full, kw);
            }
            else
            {
                Reduce<SumOperator>(src + (nint)y0 * w, rows, w, w, y1 - y0);
                Reduce<SumOperator>(rows, windows, 1, full, kw);
            }

            float* outRow = dst + (nint)oy * ow;
            for (int ox = 0; ox < ow; ox++)
            {
                int wx = ox * sw - left;
                int x0 = Math.Max(wx, 0), x1 = Math.Min(wx + kw, w);
                float acc;
                if (x0 == wx && x1 == wx + kw)
                {
                    acc = windows[wx];
                }
                else
                {
                    // A window clipped by the padding: the few cells it has.
                    acc = rows[x0];
                    for (int x = x0 + 1; x < x1; x++) acc = max ? Math.Max(acc, rows[x]) : acc + rows[x];
                }

                if (!max) acc /= includePad ? paddedRows * (Math.Min(wx + kw, w + right) - wx) : (y1 - y0) * (x1 - x0);
                outRow[ox] = acc;
            }
        }
    }

    /// <summary>
    /// result[x] = the max or sum of <paramref name="count"/> values first[x + r * step], r = 0..count-1, for x below
    /// <paramref name="length"/>: the rows of a window (step = the row's width) or the columns of one (step 1).
    /// </summary>
    private static void Reduce<TOperator>(float* first, float* result, nint step, int length, int count)
        where TOperator : struct, IReduceOperator
    {
        int x = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; x + Vector256<float>.Count <= length; x += Vector256<float>.Count)
            {
                Vector256<float> acc = Vector256.Load(first + x);
                for (int r = 1; r < count; r++) acc = TOperator.Apply(acc, Vector256.Load(first + r * step + x));
                acc.Store(result + x);
            }
        }

        for (; x < length; x++)
        {
            float acc = first[x];
            for (int r = 1; r < count; r++) acc = TOperator.Apply(acc, first[r * step + x]);
            result[x] = acc;
        }
    }

    private interface IReduceOperator
    {
        static abstract float Apply(float a, float b);
        static abstract Vector256<float> Apply(Vector256<float> a, Vector256<float> b);
    }

    private readonly struct MaxOperator : IReduceOperator
    {
        public static float Apply(float a, float b) => Math.Max(a, b);
        public static Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);
    }

    private readonly struct SumOperator : IReduceOperator
    {
        public static float Apply(float a, float b) => a + b;
        public static Vector256<float> Apply(Vector256<float> a, Vector256<float> b) => a + b;
    }

    /// <summary>The plain loop: each window read cell by cell. The twin <see cref="Plane"/> is tested against.</summary>
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
