using System.Runtime.CompilerServices;

namespace CnnService.Engine.Kernels;

/// <summary>
/// The copy <see cref="DepthwiseConv"/> reads: the rows and columns of one plane its outputs touch,
/// zero-padded, each row split into SW phases (phase q holds padded columns q, q+SW, ...). At stride 1
/// that is a plain padded copy; at stride 2 one pass of vector loads fills both phases, each pair of
/// loads split into its even and odd elements. Wider strides (rare in depthwise layers) split in a scalar loop.
/// The activation of the layer before (ReLU6, SiLU) is applied to the input values as they are copied, so it
/// costs no pass of its own; the padding stays zero, as it pads that layer's output.
/// </summary>
internal static unsafe class DepthwisePadding
{
    /// <summary>Floats of the row buffer <see cref="Fill"/> needs: a padded row, and a Vector512 pair read and one written past it.</summary>
    public static long RowBufferFloats(in DepthwiseGeometry g) => (long)g.Left + g.W + g.RowStride + 48;

    /// <summary>Padded rows [rowStart, rowEnd) into <paramref name="dst"/>, row r at dst + (r - rowStart) * RowStride;
    /// <paramref name="rowBuffer"/> holds <see cref="RowBufferFloats"/>, for a strided row built whole first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Fill<TL, TV, TIn>(in TIn pre, float* input, in DepthwiseGeometry g, float* dst, int rowStart, int rowEnd, float* rowBuffer)
        where TL : struct, ILanes<TV>
        where TV : struct
        where TIn : struct, IUnaryOperator
    {
        nint rs = g.RowStride;
        for (int r = rowStart; r < rowEnd; r++)
        {
            float* row = dst + (r - rowStart) * rs;
            int sy = r - g.Top;
            if (sy < 0 || sy >= g.H) new Span<float>(row, (int)rs).Clear();
            else if (g.SW == 1) Row<TL, TV, TIn>(pre, input + (nint)sy * g.W, g.W, g.Left, row, g.PhaseLength);
            else if (g.SW == 2 && TL.CanDeinterleave && g.W + g.Left >= 2 * TL.Count + 2)
            {
                // A row long enough for the split's vectors takes the activation on them; only its borders go element by element.
                Row2<TL, TV, TIn>(pre, input + (nint)sy * g.W, g.W, g.Left, row, g.PhaseLength);
            }
            else if (g.SW == 2 && TL.CanDeinterleave)
            {
                Row2Short<TL, TV, TIn>(pre, input + (nint)sy * g.W, g.W, g.Left, row, g.PhaseLength, rowBuffer);
            }
            else
            {
                // Wider strides (rare): the activation first, in whole vectors into the row buffer, then a plain split from there.
                float* src = input + (nint)sy * g.W;
                if (typeof(TIn) != typeof(IdentityOperator))
                {
                    Apply<TL, TV, TIn>(pre, src, rowBuffer, g.W);
                    src = rowBuffer;
                }

                RowAnyStride(default(IdentityOperator), src, g.W, g.Left, g.SW, row, g.PhaseLength);
            }
        }
    }

    /// <summary>Padded columns [0, length) of one row: zeros, the input row, zeros.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row<TL, TV, TIn>(in TIn pre, float* src, int w, int left, float* row, int length)
        where TL : struct, ILanes<TV>
        where TV : struct
        where TIn : struct, IUnaryOperator
    {
        int lo = Math.Min(left, length), hi = Math.Min(left + w, length);
        for (int j = 0; j < lo; j++) row[j] = 0f;   // a few columns: a loop beats a call
        if (hi > lo) Apply<TL, TV, TIn>(pre, src + lo - left, row + lo, hi - lo);
        for (int j = Math.Max(hi, lo); j < length; j++) row[j] = 0f;
    }

    /// <summary>
    /// dst[i] = pre(src[i]) for i &lt; count: whole vectors, then the tail as one vector loaded masked (never past the
    /// input row) and stored whole. That store writes up to Count - 1 floats past the run, into the row's right
    /// padding and the next row (both written after this) or the scratch's slack. A row copy is a call to
    /// memmove no more: on a 7x7 or 14x14 map that call cost more than the row's arithmetic.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Apply<TL, TV, TIn>(in TIn pre, float* src, float* dst, int count)
        where TL : struct, ILanes<TV>
        where TV : struct
        where TIn : struct, IUnaryOperator
    {
        int n = TL.Count, i = 0;
        for (; i + n <= count; i += n) TL.Store(dst + i, TL.Apply(pre, TL.Load(src + i)));
        if (i < count) TL.Store(dst + i, TL.Apply(pre, TL.LoadFirst(src + i, count - i)));
    }

    /// <summary>
    /// Stride 2: entry j of phase 0 is padded column 2j, of phase 1 column 2j+1, i.e. input columns 2j-left and
    /// 2j+1-left. Where both lie inside, 2*Count consecutive input floats split into the two phases at once;
    /// the borders, and a last stretch too short for a vector, go element by element.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row2<TL, TV, TIn>(in TIn pre, float* src, int w, int left, float* row, int length)
        where TL : struct, ILanes<TV>
        where TV : struct
        where TIn : struct, IUnaryOperator
    {
        float* even = row, odd = row + length;
        int n = TL.Count, j = 0;
        int first = Math.Min(length, (left + 1) / 2);   // first j whose input column 2j-left is >= 0
        for (; j < first; j++) Pair(pre, src, w, left, j, even, odd);

        // Vectors while 2*Count input floats from 2j-left stay inside the row; the last one moves back to end at the row's end.
        int last = (w + left) / 2 - n;    // largest j with 2j - left + 2n <= w
        if (last >= j)
        {
            for (; j <= last; j += n)
            {
                TL.Deinterleave(src + 2 * j - left, out TV e, out TV o);
                TL.Store(even + j, TL.Apply(pre, e));
                TL.Store(odd + j, TL.Apply(pre, o));
            }

            if (j < last + n)
            {
                TL.Deinterleave(src + 2 * last - left, out TV e, out TV o);
                TL.Store(even + last, TL.Apply(pre, e));
                TL.Store(odd + last, TL.Apply(pre, o));
                j = last + n;
            }
        }

        for (; j < length; j++) Pair(pre, src, w, left, j, even, odd);
    }

    /// <summary>
    /// Stride 2 on a row shorter than the split's vectors (a 28- or 14-wide map, where element by element cost
    /// more than the convolution): the padded row is built whole in <paramref name="buffer"/> (zeros, the
    /// activated input, zeros) and split with vectors from its end back to its start. So a vector's lanes past
    /// the row's end, which land at the start of the odd phase, are overwritten by the first vector, stored
    /// last; those past the odd phase's end land in the next row or the scratch's slack, written or unread later.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row2Short<TL, TV, TIn>(in TIn pre, float* src, int w, int left, float* row, int length, float* buffer)
        where TL : struct, ILanes<TV>
        where TV : struct
        where TIn : struct, IUnaryOperator
    {
        int padded = 2 * length, n = TL.Count;
        for (int j = 0; j < left; j++) buffer[j] = 0f;
        Apply<TL, TV, TIn>(pre, src, buffer + left, w);
        for (int j = left + w; j < padded; j++) buffer[j] = 0f;
        for (int j = (length - 1) / n * n; j >= 0; j -= n)
        {
            TL.Deinterleave(buffer + 2 * j, out TV e, out TV o);
            TL.Store(row + j, e);
            TL.Store(row + length + j, o);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pair<TIn>(in TIn pre, float* src, int w, int left, int j, float* even, float* odd)
        where TIn : struct, IUnaryOperator
    {
        int c0 = 2 * j - left, c1 = c0 + 1;
        even[j] = (uint)c0 < (uint)w ? pre.Invoke(src[c0]) : 0f;
        odd[j] = (uint)c1 < (uint)w ? pre.Invoke(src[c1]) : 0f;
    }

    private static void RowAnyStride<TIn>(in TIn pre, float* src, int w, int left, int sw, float* row, int length)
        where TIn : struct, IUnaryOperator
    {
        for (int q = 0; q < sw; q++)
        {
            float* phase = row + q * length;
            for (int j = 0; j < length; j++)
            {
                int c = q + j * sw - left;
                phase[j] = (uint)c < (uint)w ? pre.Invoke(src[c]) : 0f;
            }
        }
    }
}
