using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Kernels;

/// <summary>The shape of one depthwise plane: an H x W input, a KH x KW kernel at stride (SH, SW), zero padding
/// Top/Left (bottom/right implied by OH/OW), and the OH x OW output.</summary>
internal readonly record struct DepthwiseGeometry(int H, int W, int KH, int KW, int SH, int SW, int Top, int Left, int OH, int OW)
{
    /// <summary>Padded rows the outputs read: rows past them (an unused last stride) are never touched.</summary>
    public int ReadHeight => (OH - 1) * SH + KH;

    /// <summary>Padded columns the outputs read.</summary>
    public int ReadWidth => (OW - 1) * SW + KW;

    /// <summary>One phase of a padded row: every SW-th column, starting at column q for phase q. Stored, not computed:
    /// the kernels read it per row, and an integer division per row cost a 7x7 plane a tenth of its time.</summary>
    public int PhaseLength { get; } = ((OW - 1) * SW + KW + SW - 1) / SW;

    /// <summary>Output rows per band of <see cref="DepthwiseConv"/>, stored for the same reason.</summary>
    public int BandRows { get; } = DepthwiseConv.BandRowsOf(SW * (((OW - 1) * SW + KW + SW - 1) / SW), KH, SH, OH);

    /// <summary>Floats of one padded row: its SW phases one after another.</summary>
    public int RowStride => SW * PhaseLength;
}

/// <summary>
/// Depthwise convolution of one channel plane (MobileNet, EfficientNet): each output channel reads
/// one input channel through its own KH x KW kernel. There are only KH*KW multiply-adds per output,
/// so the GEMM lowering would spend its time packing; instead the plane is copied, padded, into the
/// thread's scratch a band of rows at a time (a band stays in L1 between its copy and its reads),
/// and every output row is a sum of KH*KW shifted rows, vectorised across the output columns. For a stride SW > 1 the copy also splits each padded row into SW phases (columns
/// q, q+SW, q+2SW, ...), so tap kx of output x is element x + kx/SW of phase kx%SW: every tap is then
/// one contiguous vector load, at stride 2 as at stride 1. 3x3 keeps its nine weights in registers,
/// 5x5 unrolls its taps, other kernels loop over a tap table. <see cref="PlaneScalar"/> is the plain twin.
/// Small stride-1 planes (7x7) go through <see cref="DepthwiseFlat"/> instead with AVX-512, where its per-row work cost more than
/// the taps; strided planes and narrow ones through <see cref="DepthwiseBlocked"/> (the layer decides, <see cref="IsBlocked"/>).
/// </summary>
internal static unsafe class DepthwiseConv
{
    /// <summary>Vector over-read past the last padded row (lanes past OW of a narrow map): one Vector512 and a margin.</summary>
    private const int Slack = 32;

    /// <summary>Floats of padded rows per band: 16 KB, a third of L1, so the band is read back from L1.</summary>
    private const int BandFloats = 4096;

    /// <summary>Output rows per band: at least one, else as many as fit <see cref="BandFloats"/>.</summary>
    internal static int BandRowsOf(int rowStride, int kh, int sh, int oh) => Math.Clamp((BandFloats / rowStride - kh) / sh + 1, 1, oh);

    private static int BandRows(in DepthwiseGeometry g) => g.BandRows;

    /// <summary>Floats of per-thread scratch <see cref="Plane"/> and <see cref="Planes"/> need: the banded path's, or the flat path's where it applies.</summary>
    public static long ScratchFloats(in DepthwiseGeometry g) =>
        Math.Max(BandFloatsOf(g) + DepthwisePadding.RowBufferFloats(g), DepthwiseFlat.Applies(g) ? DepthwiseFlat.ScratchFloats(g) : 0);

    /// <summary>
    /// Whether a layer of this geometry runs through <see cref="DepthwiseBlocked"/> (16 channels in the lanes, or 8 with AVX2)
    /// rather than plane by plane: at Vector512 where the flat path does not take it, at Vector256, and where it fits.
    /// </summary>
    public static bool IsBlocked(SimdLevel level, in DepthwiseGeometry g, int channels, int mult) =>
        (level == SimdLevel.Vector256 || level == SimdLevel.Vector512 && !DepthwiseFlat.Applies(g)) && DepthwiseBlocked.Applies(level, g, channels, mult);

    /// <summary>Whether <see cref="Planes"/> runs a geometry through <see cref="DepthwiseFlat"/> at this level.</summary>
    public static bool IsFlat(SimdLevel level, in DepthwiseGeometry g) => level == SimdLevel.Vector512 && DepthwiseFlat.Applies(g);

    /// <summary>
    /// A run of planes k = 0 .. count-1: input + k*inPlane of channel (firstChannel + k) % channels into output + k*outPlanes,
    /// as <see cref="Plane"/> does each; small planes go through <see cref="DepthwiseFlat"/> a group at a time.
    /// </summary>
    public static void Planes(SimdLevel level, float* input, nint inPlane, float* weights, float* bias, int mult, float* output, nint outPlanes,
        int firstChannel, int channels, int count, in FusedActivation pre, in FusedActivation post, in DepthwiseGeometry g, float* scratch)
    {
        if (IsFlat(level, g))
        {
            DepthwiseFlat.Planes(input, inPlane, weights, bias, mult, output, outPlanes, firstChannel, channels, count, pre, post, g, scratch);
            return;
        }

        int kk = g.KH * g.KW;
        for (int k = 0; k < count; k++)
        {
            int ch = (firstChannel + k) % channels;
            PlaneBanded(level, input + k * inPlane, weights + ch * mult * kk, bias + ch * mult, mult, output + k * outPlanes, pre, post, g, scratch);
        }
    }

    /// <summary>The band of padded rows, then a row buffer for a strided fill with an activation.</summary>
    private static long BandFloatsOf(in DepthwiseGeometry g) => (long)((BandRows(g) - 1) * g.SH + g.KH) * g.RowStride + Slack;

    /// <summary>
    /// Output planes [mult][OH][OW] of input plane <paramref name="input"/> [H][W]: plane j through kernel
    /// <paramref name="weights"/> + j*KH*KW plus <paramref name="bias"/>[j], clamped at zero when <paramref name="relu"/>.
    /// </summary>
    public static void Plane(SimdLevel level, float* input, float* weights, float* bias, int mult, float* output, bool relu, in DepthwiseGeometry g, float* scratch) =>
        Plane(level, input, weights, bias, mult, output, FusedActivation.None, relu ? FusedActivation.Relu : FusedActivation.None, g, scratch);

    /// <summary>
    /// As above, with <paramref name="pre"/> applied to every input value as it is read (the activation of the
    /// layer before, fused here; padding stays zero) and <paramref name="post"/> to every output as it is stored.
    /// </summary>
    public static void Plane(SimdLevel level, float* input, float* weights, float* bias, int mult, float* output,
        in FusedActivation pre, in FusedActivation post, in DepthwiseGeometry g, float* scratch)
    {
        if (IsFlat(level, g)) DepthwiseFlat.Planes(input, 0, weights, bias, mult, output, 0, 0, 1, 1, pre, post, g, scratch);
        else PlaneBanded(level, input, weights, bias, mult, output, pre, post, g, scratch);
    }

    /// <summary>As <see cref="Plane"/>, always through the padded bands (the flat path's reference in the tests).</summary>
    internal static void PlaneBanded(SimdLevel level, float* input, float* weights, float* bias, int mult, float* output,
        in FusedActivation pre, in FusedActivation post, in DepthwiseGeometry g, float* scratch)
    {
        // A narrow map fills few of 16 lanes; 8 lanes waste less of each vector.
        if (level == SimdLevel.Vector512 && g.OW <= 8) level = SimdLevel.Vector256;
        switch (level)
        {
            case SimdLevel.Vector512: Pre<Lanes512, Vector512<float>>(input, weights, bias, mult, output, pre, post, g, scratch); break;
            case SimdLevel.Vector256: Pre<Lanes256, Vector256<float>>(input, weights, bias, mult, output, pre, post, g, scratch); break;
            default: PlaneScalar(input, weights, bias, mult, output, pre, post, g); break;
        }
    }

    /// <summary>The plain twin without fused activations but a ReLU.</summary>
    public static void PlaneScalar(float* input, float* weights, float* bias, int mult, float* output, bool relu, in DepthwiseGeometry g) =>
        PlaneScalar(input, weights, bias, mult, output, FusedActivation.None, relu ? FusedActivation.Relu : FusedActivation.None, g);

    /// <summary>The plain twin: every output a sum over the taps that land inside the input (zero padding skipped).</summary>
    public static void PlaneScalar(float* input, float* weights, float* bias, int mult, float* output, in FusedActivation pre, in FusedActivation post, in DepthwiseGeometry g)
    {
        int kk = g.KH * g.KW;
        for (int j = 0; j < mult; j++)
        {
            float* w = weights + j * kk, o = output + (nint)j * g.OH * g.OW;
            for (int oy = 0; oy < g.OH; oy++)
            {
                for (int ox = 0; ox < g.OW; ox++)
                {
                    float sum = bias[j];
                    for (int ky = 0; ky < g.KH; ky++)
                    {
                        int iy = oy * g.SH - g.Top + ky;
                        if (iy < 0 || iy >= g.H) continue;
                        for (int kx = 0; kx < g.KW; kx++)
                        {
                            int ix = ox * g.SW - g.Left + kx;
                            if (ix >= 0 && ix < g.W) sum += pre.Apply(input[(nint)iy * g.W + ix]) * w[ky * g.KW + kx];
                        }
                    }

                    o[(nint)oy * g.OW + ox] = post.Apply(sum);
                }
            }
        }
    }

    // The activations become type arguments (FusedActivations), so each combination compiles to its own loop with the function inlined.
    private static void Pre<TL, TV>(float* input, float* weights, float* bias, int mult, float* output, in FusedActivation pre, in FusedActivation post, in DepthwiseGeometry g, float* scratch)
        where TL : struct, ILanes<TV>
        where TV : struct
    {
        var kernel = new Kernel<TL, TV>(input, weights, bias, mult, output, g, scratch);
        FusedActivations.Run(pre, post, ref kernel);
    }

    private readonly struct Kernel<TL, TV>(float* input, float* weights, float* bias, int mult, float* output, DepthwiseGeometry g, float* scratch) : IFusedKernel
        where TL : struct, ILanes<TV>
        where TV : struct
    {
        public void Run<TIn, TOut>(in TIn pre, in TOut post)
            where TIn : struct, IUnaryOperator
            where TOut : struct, IUnaryOperator => DepthwiseConv.Run<TL, TV, TIn, TOut>(pre, post, input, weights, bias, mult, output, g, scratch);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TL, TV, TIn, TOut>(in TIn pre, in TOut post, float* input, float* weights, float* bias, int mult, float* output, in DepthwiseGeometry g, float* scratch)
        where TL : struct, ILanes<TV>
        where TV : struct
        where TIn : struct, IUnaryOperator
        where TOut : struct, IUnaryOperator
    {
        int kk = g.KH * g.KW, band = BandRows(g);
        float* rowBuffer = scratch + BandFloatsOf(g);
        for (int y0 = 0; y0 < g.OH; y0 += band)
        {
            // Output rows [y0, y1) read padded rows [y0*SH, (y1-1)*SH + KH); "padded" is where padded row 0 would be.
            int y1 = Math.Min(g.OH, y0 + band), r0 = y0 * g.SH;
            DepthwisePadding.Fill<TL, TV, TIn>(pre, input, g, scratch, r0, (y1 - 1) * g.SH + g.KH, rowBuffer);
            float* padded = scratch - (nint)r0 * g.RowStride;
            for (int j = 0; j < mult; j++)
            {
                float* w = weights + j * kk, o = output + (nint)j * g.OH * g.OW;
                if (TOut.OwnPass)
                {
                    Rows<TL, TV, IdentityOperator>(default, padded, w, bias[j], o, g, y0, y1);
                    float* rows = o + (nint)y0 * g.OW;
                    UnaryDriver.Apply(post, rows, rows, (nint)(y1 - y0) * g.OW, TL.Count == 16 ? SimdLevel.Vector512 : SimdLevel.Vector256);
                }
                else Rows<TL, TV, TOut>(post, padded, w, bias[j], o, g, y0, y1);
            }
        }
    }

    /// <summary>Output rows [<paramref name="y0"/>, <paramref name="y1"/>) of one plane, by the kernel's size.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rows<TL, TV, TOut>(in TOut post, float* padded, float* w, float bias, float* o, in DepthwiseGeometry g, int y0, int y1)
        where TL : struct, ILanes<TV>
        where TV : struct
        where TOut : struct, IUnaryOperator
    {
        if (g.KH == 3 && g.KW == 3) Rows3x3<TL, TV, TOut>(post, padded, w, bias, o, g, y0, y1);
        else if (g.KH == 5 && g.KW == 5) Rows5x5<TL, TV, TOut>(post, padded, w, bias, o, g, y0, y1);
        else RowsGeneral<TL, TV, TOut>(post, padded, w, bias, o, g, y0, y1);
    }

    /// <summary>Offset of tap column kx from output column x's position in phase 0: its phase, then its place in it
    /// (strides 1 and 2 without an integer division: this runs per band and output plane).</summary>
    private static nint Column(int kx, in DepthwiseGeometry g) => g.SW switch
    {
        1 => kx,
        2 => (nint)(kx & 1) * g.PhaseLength + (kx >> 1),
        _ => (nint)(kx % g.SW) * g.PhaseLength + kx / g.SW,
    };

    /// <summary>Output rows computed together by <see cref="Rows3x3"/>: they share input rows, and their sums are independent chains.</summary>
    private const int Block3x3 = 4;

    /// <summary>
    /// Four output rows' vectors at column <paramref name="x"/>, through <paramref name="post"/>; on a map narrower than a
    /// vector (x = 0), masked to its width.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreFourRows<TL, TV, TOut>(in TOut post, float* o, int ow, int x, TV a0, TV a1, TV a2, TV a3)
        where TL : struct, ILanes<TV>
        where TV : struct
        where TOut : struct, IUnaryOperator
    {
        if (ow >= TL.Count)
        {
            TL.Store(o + x, TL.Apply(post, a0));
            TL.Store(o + ow + x, TL.Apply(post, a1));
            TL.Store(o + 2 * ow + x, TL.Apply(post, a2));
            TL.Store(o + 3 * ow + x, TL.Apply(post, a3));
        }
        else
        {
            TL.StoreFirst(o, TL.Apply(post, a0), ow);
            TL.StoreFirst(o + ow, TL.Apply(post, a1), ow);
            TL.StoreFirst(o + 2 * ow, TL.Apply(post, a2), ow);
            TL.StoreFirst(o + 3 * ow, TL.Apply(post, a3), ow);
        }
    }

    /// <summary>
    /// 3x3 rows, <see cref="Block3x3"/> at a time at stride 1 or 2: one FMA has a few cycles of latency, so a single
    /// output's chain of nine leaves the FMA units idle, while four rows give four independent chains, and each input
    /// vector loaded serves every output row that reads it. A band's last block moves back to end at its last row
    /// (recomputing a few rows, as the last vector of a row does); a band of fewer rows, or another stride, goes row by row.
    /// Every output still sums bias, then its taps in (ky, kx) order, as <see cref="Tap3x3"/> does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows3x3<TL, TV, TOut>(in TOut post, float* padded, float* w, float b, float* output, in DepthwiseGeometry g, int y0, int y1)
        where TL : struct, ILanes<TV>
        where TV : struct
        where TOut : struct, IUnaryOperator
    {
        nint rs = g.RowStride, c1 = Column(1, g), c2 = Column(2, g), rowStep = rs * g.SH;
        TV w0 = TL.Splat(w[0]), w1 = TL.Splat(w[1]), w2 = TL.Splat(w[2]);
        TV w3 = TL.Splat(w[3]), w4 = TL.Splat(w[4]), w5 = TL.Splat(w[5]);
        TV w6 = TL.Splat(w[6]), w7 = TL.Splat(w[7]), w8 = TL.Splat(w[8]);
        TV bias = TL.Splat(b);
        int n = TL.Count, ow = g.OW, sh = g.SH;
        if ((sh == 1 || sh == 2) && y1 - y0 >= Block3x3)
        {
            for (int oy = y0; oy < y1; oy += Block3x3)
            {
                if (oy > y1 - Block3x3) oy = y1 - Block3x3;
                float* r0 = padded + oy * rowStep, o = output + (nint)oy * ow;
                int x = 0;
                TV a0, a1, a2, a3;
                for (; x + n <= ow; x += n)
                {
                    if (sh == 1) Block3x3S1<TL, TV>(r0 + x, rs, c1, c2, w0, w1, w2, w3, w4, w5, w6, w7, w8, bias, out a0, out a1, out a2, out a3);
                    else Block3x3S2<TL, TV>(r0 + x, rs, c1, c2, w0, w1, w2, w3, w4, w5, w6, w7, w8, bias, out a0, out a1, out a2, out a3);
                    StoreFourRows<TL, TV, TOut>(post, o, ow, x, a0, a1, a2, a3);
                }

                if (x < ow)
                {
                    // As row by row: the last vector moves back to end at OW, or is stored masked on a map narrower than a vector.
                    x = ow >= n ? ow - n : 0;
                    if (sh == 1) Block3x3S1<TL, TV>(r0 + x, rs, c1, c2, w0, w1, w2, w3, w4, w5, w6, w7, w8, bias, out a0, out a1, out a2, out a3);
                    else Block3x3S2<TL, TV>(r0 + x, rs, c1, c2, w0, w1, w2, w3, w4, w5, w6, w7, w8, bias, out a0, out a1, out a2, out a3);
                    StoreFourRows<TL, TV, TOut>(post, o, ow, x, a0, a1, a2, a3);
                }
            }

            return;
        }

        for (int oy = y0; oy < y1; oy++)
        {
            float* r0 = padded + oy * rowStep, o = output + (nint)oy * ow;
            int x = 0;
            for (; x + 2 * n <= ow; x += 2 * n)
            {
                TL.Store(o + x, TL.Apply(post, Tap3x3<TL, TV>(r0 + x, rs, c1, c2, w0, w1, w2, w3, w4, w5, w6, w7, w8, bias)));
                TL.Store(o + x + n, TL.Apply(post, Tap3x3<TL, TV>(r0 + x + n, rs, c1, c2, w0, w1, w2, w3, w4, w5, w6, w7, w8, bias)));
            }

            for (; x + n <= ow; x += n) TL.Store(o + x, TL.Apply(post, Tap3x3<TL, TV>(r0 + x, rs, c1, c2, w0, w1, w2, w3, w4, w5, w6, w7, w8, bias)));
            if (x < ow)
            {
                // The last vector moves back to end at OW (recomputing a few outputs), or, on a map narrower than a vector, is stored masked.
                if (ow >= n) TL.Store(o + ow - n, TL.Apply(post, Tap3x3<TL, TV>(r0 + ow - n, rs, c1, c2, w0, w1, w2, w3, w4, w5, w6, w7, w8, bias)));
                else TL.StoreFirst(o, TL.Apply(post, Tap3x3<TL, TV>(r0, rs, c1, c2, w0, w1, w2, w3, w4, w5, w6, w7, w8, bias)), ow);
            }
        }
    }

    /// <summary>One kernel row (three taps) added to an output's sum, in kx order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Row3<TL, TV>(TV acc, TV l0, TV l1, TV l2, TV wa, TV wb, TV wc)
        where TL : struct, ILanes<TV>
        where TV : struct =>
        TL.MulAdd(l2, wc, TL.MulAdd(l1, wb, TL.MulAdd(l0, wa, acc)));

    /// <summary>Four stride-1 output rows at p: padded rows 0-5, each loaded once and added to every sum that reads it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block3x3S1<TL, TV>(float* p, nint rs, nint c1, nint c2, TV w0, TV w1, TV w2, TV w3, TV w4, TV w5, TV w6, TV w7, TV w8, TV bias,
        out TV a0, out TV a1, out TV a2, out TV a3)
        where TL : struct, ILanes<TV>
        where TV : struct
    {
        // Within a padded row, each sum takes its own taps in kx order; across rows, each sum sees ky = 0, 1, 2 in turn.
        TV l0 = TL.Load(p), l1 = TL.Load(p + c1), l2 = TL.Load(p + c2);
        a0 = Row3<TL, TV>(bias, l0, l1, l2, w0, w1, w2);
        p += rs; l0 = TL.Load(p); l1 = TL.Load(p + c1); l2 = TL.Load(p + c2);
        a0 = Row3<TL, TV>(a0, l0, l1, l2, w3, w4, w5);
        a1 = Row3<TL, TV>(bias, l0, l1, l2, w0, w1, w2);
        p += rs; l0 = TL.Load(p); l1 = TL.Load(p + c1); l2 = TL.Load(p + c2);
        a0 = Row3<TL, TV>(a0, l0, l1, l2, w6, w7, w8);
        a1 = Row3<TL, TV>(a1, l0, l1, l2, w3, w4, w5);
        a2 = Row3<TL, TV>(bias, l0, l1, l2, w0, w1, w2);
        p += rs; l0 = TL.Load(p); l1 = TL.Load(p + c1); l2 = TL.Load(p + c2);
        a1 = Row3<TL, TV>(a1, l0, l1, l2, w6, w7, w8);
        a2 = Row3<TL, TV>(a2, l0, l1, l2, w3, w4, w5);
        a3 = Row3<TL, TV>(bias, l0, l1, l2, w0, w1, w2);
        p += rs; l0 = TL.Load(p); l1 = TL.Load(p + c1); l2 = TL.Load(p + c2);
        a2 = Row3<TL, TV>(a2, l0, l1, l2, w6, w7, w8);
        a3 = Row3<TL, TV>(a3, l0, l1, l2, w3, w4, w5);
        p += rs; l0 = TL.Load(p); l1 = TL.Load(p + c1); l2 = TL.Load(p + c2);
        a3 = Row3<TL, TV>(a3, l0, l1, l2, w6, w7, w8);
    }

    /// <summary>Four stride-2 output rows at p: padded rows 0-8; rows 2, 4 and 6 end one output's sum and start the next.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block3x3S2<TL, TV>(float* p, nint rs, nint c1, nint c2, TV w0, TV w1, TV w2, TV w3, TV w4, TV w5, TV w6, TV w7, TV w8, TV bias,
        out TV a0, out TV a1, out TV a2, out TV a3)
        where TL : struct, ILanes<TV>
        where TV : struct
    {
        TV l0 = TL.Load(p), l1 = TL.Load(p + c1), l2 = TL.Load(p + c2);
        a0 = Row3<TL, TV>(bias, l0, l1, l2, w0, w1, w2);
        p += rs; l0 = TL.Load(p); l1 = TL.Load(p + c1); l2 = TL.Load(p + c2);
        a0 = Row3<TL, TV>(a0, l0, l1, l2, w3, w4, w5);
        p += rs; l0 = TL.Load(p); l1 = TL.Load(p + c1); l2 = TL.Load(p + c2);
        a0 = Row3<TL, TV>(a0, l0, l1, l2, w6, w7, w8);
        a1 = Row3<TL, TV>(bias, l0, l1, l2, w0, w1, w2);
        p += rs; l0 = TL.Load(p); l1 = TL.Load(p + c1); l2 = TL.Load(p + c2);
        a1 = Row3<TL, TV>(a1, l0, l1, l2, w3, w4, w5);
        p += rs; l0 = TL.Load(p); l1 = TL.Load(p + c1); l2 = TL.Load(p + c2);
        a1 = Row3<TL, TV>(a1, l0, l1, l2, w6, w7, w8);
        a2 = Row3<TL, TV>(bias, l0, l1, l2, w0, w1, w2);
        p += rs; l0 = TL.Load(p); l1 = TL.Load(p + c1); l2 = TL.Load(p + c2);
        a2 = Row3<TL, TV>(a2, l0, l1, l2, w3, w4, w5);
        p += rs; l0 = TL.Load(p); l1 = TL.Load(p + c1); l2 = TL.Load(p + c2);
        a2 = Row3<TL, TV>(a2, l0, l1, l2, w6, w7, w8);
        a3 = Row3<TL, TV>(bias, l0, l1, l2, w0, w1, w2);
        p += rs; l0 = TL.Load(p); l1 = TL.Load(p + c1); l2 = TL.Load(p + c2);
        a3 = Row3<TL, TV>(a3, l0, l1, l2, w3, w4, w5);
        p += rs; l0 = TL.Load(p); l1 = TL.Load(p + c1); l2 = TL.Load(p + c2);
        a3 = Row3<TL, TV>(a3, l0, l1, l2, w6, w7, w8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Tap3x3<TL, TV>(float* p, nint rs, nint c1, nint c2, TV w0, TV w1, TV w2, TV w3, TV w4, TV w5, TV w6, TV w7, TV w8, TV acc)
        where TL : struct, ILanes<TV>
        where TV : struct
    {
        acc = TL.MulAdd(TL.Load(p), w0, acc);
        acc = TL.MulAdd(TL.Load(p + c1), w1, acc);
        acc = TL.MulAdd(TL.Load(p + c2), w2, acc);
        p += rs;
        acc = TL.MulAdd(TL.Load(p), w3, acc);
        acc = TL.MulAdd(TL.Load(p + c1), w4, acc);
        acc = TL.MulAdd(TL.Load(p + c2), w5, acc);
        p += rs;
        acc = TL.MulAdd(TL.Load(p), w6, acc);
        acc = TL.MulAdd(TL.Load(p + c1), w7, acc);
        acc = TL.MulAdd(TL.Load(p + c2), w8, acc);
        return acc;
    }

    /// <summary>Output rows computed together by <see cref="Rows5x5"/>, as for 3x3.</summary>
    private const int Block5x5 = 4;

    /// <summary>
    /// 5x5 rows, <see cref="Block5x5"/> at a time at any stride: one output's 25 taps are a chain of dependent FMAs, and on
    /// a 7x7 or 14x14 map (one vector per row) a row at a time left the FMA units waiting on that chain; four rows give four
    /// chains, and each weight is broadcast once for all four. A band's last block moves back to end at its last row; a band
    /// of fewer rows goes row by row. Every output still sums bias, then its taps in (ky, kx) order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows5x5<TL, TV, TOut>(in TOut post, float* padded, float* w, float b, float* output, in DepthwiseGeometry g, int y0, int y1)
        where TL : struct, ILanes<TV>
        where TV : struct
        where TOut : struct, IUnaryOperator
    {
        nint rs = g.RowStride, c1 = Column(1, g), c2 = Column(2, g), c3 = Column(3, g), c4 = Column(4, g), rowStep = rs * g.SH;
        TV bias = TL.Splat(b);
        int n = TL.Count, ow = g.OW;
        if (y1 - y0 >= Block5x5)
        {
            for (int oy = y0; oy < y1; oy += Block5x5)
            {
                if (oy > y1 - Block5x5) oy = y1 - Block5x5;
                float* r0 = padded + oy * rowStep, o = output + (nint)oy * ow;
                TV a0, a1, a2, a3;
                int x = 0;
                for (; x + n <= ow; x += n)
                {
                    Block5x5Taps<TL, TV>(r0 + x, rs, rowStep, c1, c2, c3, c4, w, bias, out a0, out a1, out a2, out a3);
                    StoreFourRows<TL, TV, TOut>(post, o, ow, x, a0, a1, a2, a3);
                }

                if (x < ow)
                {
                    // As row by row: the last vector moves back to end at OW, or is stored masked on a map narrower than a vector.
                    x = ow >= n ? ow - n : 0;
                    Block5x5Taps<TL, TV>(r0 + x, rs, rowStep, c1, c2, c3, c4, w, bias, out a0, out a1, out a2, out a3);
                    StoreFourRows<TL, TV, TOut>(post, o, ow, x, a0, a1, a2, a3);
                }
            }

            return;
        }

        for (int oy = y0; oy < y1; oy++)
        {
            float* r0 = padded + oy * rowStep, o = output + (nint)oy * ow;
            int x = 0;
            for (; x + 2 * n <= ow; x += 2 * n)
            {
                TL.Store(o + x, TL.Apply(post, Tap5x5<TL, TV>(r0 + x, rs, c1, c2, c3, c4, w, bias)));
                TL.Store(o + x + n, TL.Apply(post, Tap5x5<TL, TV>(r0 + x + n, rs, c1, c2, c3, c4, w, bias)));
            }

            for (; x + n <= ow; x += n) TL.Store(o + x, TL.Apply(post, Tap5x5<TL, TV>(r0 + x, rs, c1, c2, c3, c4, w, bias)));
            if (x < ow)
            {
                if (ow >= n) TL.Store(o + ow - n, TL.Apply(post, Tap5x5<TL, TV>(r0 + ow - n, rs, c1, c2, c3, c4, w, bias)));
                else TL.StoreFirst(o, TL.Apply(post, Tap5x5<TL, TV>(r0, rs, c1, c2, c3, c4, w, bias)), ow);
            }
        }
    }

    /// <summary>Four output rows (rowStep apart in the padded band) at p: each tap's weight broadcast once, then added to all four sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block5x5Taps<TL, TV>(float* p, nint rs, nint rowStep, nint c1, nint c2, nint c3, nint c4, float* w, TV bias,
        out TV a0, out TV a1, out TV a2, out TV a3)
        where TL : struct, ILanes<TV>
        where TV : struct
    {
        a0 = bias; a1 = bias; a2 = bias; a3 = bias;
        for (int ky = 0; ky < 5; ky++, p += rs, w += 5)
        {
            Tap4<TL, TV>(p, rowStep, TL.Splat(w[0]), ref a0, ref a1, ref a2, ref a3);
            Tap4<TL, TV>(p + c1, rowStep, TL.Splat(w[1]), ref a0, ref a1, ref a2, ref a3);
            Tap4<TL, TV>(p + c2, rowStep, TL.Splat(w[2]), ref a0, ref a1, ref a2, ref a3);
            Tap4<TL, TV>(p + c3, rowStep, TL.Splat(w[3]), ref a0, ref a1, ref a2, ref a3);
            Tap4<TL, TV>(p + c4, rowStep, TL.Splat(w[4]), ref a0, ref a1, ref a2, ref a3);
        }
    }

    /// <summary>One tap of four output rows: the input under it in each row, times its weight, added to that row's sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tap4<TL, TV>(float* q, nint rowStep, TV wt, ref TV a0, ref TV a1, ref TV a2, ref TV a3)
        where TL : struct, ILanes<TV>
        where TV : struct
    {
        a0 = TL.MulAdd(TL.Load(q), wt, a0);
        a1 = TL.MulAdd(TL.Load(q + rowStep), wt, a1);
        a2 = TL.MulAdd(TL.Load(q + 2 * rowStep), wt, a2);
        a3 = TL.MulAdd(TL.Load(q + 3 * rowStep), wt, a3);
    }

    /// <summary>25 taps, a row of five at a time; the weights are broadcast from memory (25 would not stay in registers).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Tap5x5<TL, TV>(float* p, nint rs, nint c1, nint c2, nint c3, nint c4, float* w, TV acc)
        where TL : struct, ILanes<TV>
        where TV : struct
    {
        for (int ky = 0; ky < 5; ky++, p += rs, w += 5)
        {
            acc = TL.MulAdd(TL.Load(p), TL.Splat(w[0]), acc);
            acc = TL.MulAdd(TL.Load(p + c1), TL.Splat(w[1]), acc);
            acc = TL.MulAdd(TL.Load(p + c2), TL.Splat(w[2]), acc);
            acc = TL.MulAdd(TL.Load(p + c3), TL.Splat(w[3]), acc);
            acc = TL.MulAdd(TL.Load(p + c4), TL.Splat(w[4]), acc);
        }

        return acc;
    }

    /// <summary>Any kernel: a table of tap offsets (row and phase column) walked per output vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowsGeneral<TL, TV, TOut>(in TOut post, float* padded, float* w, float b, float* output, in DepthwiseGeometry g, int y0, int y1)
        where TL : struct, ILanes<TV>
        where TV : struct
        where TOut : struct, IUnaryOperator
    {
        int taps = g.KH * g.KW;
        nint rs = g.RowStride, rowStep = rs * g.SH;
        nint* offsets = stackalloc nint[taps];   // kernels are small: the layer refuses more than MaxTaps
        for (int ky = 0; ky < g.KH; ky++)
            for (int kx = 0; kx < g.KW; kx++) offsets[ky * g.KW + kx] = ky * rs + Column(kx, g);

        TV bias = TL.Splat(b);
        int n = TL.Count, ow = g.OW;
        for (int oy = y0; oy < y1; oy++)
        {
            float* r0 = padded + oy * rowStep, o = output + (nint)oy * ow;
            int x = 0;
            for (; x + n <= ow; x += n) TL.Store(o + x, TL.Apply(post, TapAny<TL, TV>(r0 + x, offsets, w, taps, bias)));
            if (x < ow)
            {
                if (ow >= n) TL.Store(o + ow - n, TL.Apply(post, TapAny<TL, TV>(r0 + ow - n, offsets, w, taps, bias)));
                else TL.StoreFirst(o, TL.Apply(post, TapAny<TL, TV>(r0, offsets, w, taps, bias)), ow);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV TapAny<TL, TV>(float* p, nint* offsets, float* w, int taps, TV acc)
        where TL : struct, ILanes<TV>
        where TV : struct
    {
        for (int t = 0; t < taps; t++) acc = TL.MulAdd(TL.Load(p + offsets[t]), TL.Splat(w[t]), acc);
        return acc;
    }

    /// <summary>Kernels above this many taps are refused at load time: the tap table lives on the stack.</summary>
    public const int MaxTaps = 1024;
}
