using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnService.Engine.Kernels;

/// <summary>
/// Depthwise convolution of small stride-1 planes (MobileNet's and EfficientNet's 7x7 layers; AVX-512 only), a run of
/// planes at a time. The banded path of <see cref="DepthwiseConv"/> works row by row: on a 7x7 map a padded copy of nine
/// rows, and blocks of four output rows of one narrow vector each. Here, with "same" padding (OW == W), the output plane
/// is one flat run of OH*OW floats, the input plane is one flat run with the same row stride, and tap (ky, kx) of output
/// p reads input position p + dy*W + dx (dy = ky - top, dx = kx - left): 49 outputs are four vectors, each tap four
/// loads and four FMAs on one broadcast weight. The plane is copied once per column shift dx, with zero rows above and
/// below; a tap whose column leaves its row (ox + dx outside [0, W)) would wrap into the row above or below, so the copy
/// for dx has those wrapped columns zeroed. Planes are copied a group at a time, then computed, so the loads that span
/// two of the copy's stores find them retired.
/// <para>Every output sums the bias, then its KH*KW taps in (ky, kx) order, padding taps included as zeros: the same
/// sums, in the same order, as the banded path, so the two agree bit for bit under exact activations (SiLU's vector
/// forms may differ from the banded path's in the last bits, as its own 256- and 512-bit forms do).</para>
/// <para>Measured against the banded path on one thread (ns a plane, clip before): 7x7 3x3 62 against 107, 7x7 5x5 114
/// against 188; a 14x14 plane (16 vectors) was slower (219 against 185), and stride 2 (four phase copies built row by
/// row) no faster, so both stay banded.</para>
/// </summary>
internal static unsafe class DepthwiseFlat
{
    /// <summary>Output vectors computed together: four independent chains of FMAs.</summary>
    private const int Block = 4;

    /// <summary>Largest output plane taken: 8x8, four vectors, computed as one block.</summary>
    private const int MaxOutputs = 16 * Block;

    /// <summary>Taps at most (a 7x7 kernel): the tap table is on the stack, the copies grow with the column shifts.</summary>
    private const int MaxTaps = 49;

    /// <summary>Floats of copies per group of planes: a sixth of L1, so a group's copies are still there when computed.</summary>
    private const int GroupFloats = 2048;

    private const int MaxGroup = 8;

    /// <summary>Whether this path takes the geometry: stride 1, OW == W ("same" padding across), at most 64 outputs.</summary>
    public static bool Applies(in DepthwiseGeometry g) =>
        Avx512F.IsSupported && g.SH == 1 && g.SW == 1 && g.OW == g.W && (long)g.OH * g.OW <= MaxOutputs && g.KH * g.KW <= MaxTaps;

    /// <summary>Floats of scratch <see cref="Planes"/> needs (for a geometry that <see cref="Applies"/>).</summary>
    public static long ScratchFloats(in DepthwiseGeometry g)
    {
        Layout l = new(g);
        return (long)l.Group * l.SlotFloats + 16;
    }

    /// <summary>Where the copies go and how far they reach, from the geometry alone.</summary>
    private readonly struct Layout
    {
        /// <summary>Input vectors copied, zero floats before position 0, floats per copy, column shifts (dx = DxMin ..),
        /// floats per plane's copies, planes per group.</summary>
        public readonly int InputVectors, Margin, Length, DxMin, DxCount, SlotFloats, Group;

        public Layout(in DepthwiseGeometry g)
        {
            InputVectors = (g.H * g.W + 15) / 16;
            int qMin = Math.Min(0, -g.Top * g.W - g.Left), qMax = Math.Max(0, (g.KH - 1 - g.Top) * g.W + g.KW - 1 - g.Left);
            DxMin = -g.Left;
            DxCount = g.KW;
            Margin = (-qMin + 15) & ~15;
            // Reads reach the block's 16*Block floats plus qMax past position 0; the copied plane fills 16*InputVectors.
            Length = Margin + ((Math.Max(16 * Block + qMax, 16 * InputVectors) + 15) & ~15);
            SlotFloats = DxCount * Length;
            Group = Math.Clamp(GroupFloats / SlotFloats, 1, MaxGroup);
        }
    }

    /// <summary>
    /// Planes k = 0 .. count-1: input + k*inPlane [H][W] of channel (firstChannel + k) % channels into output + k*outPlanes,
    /// [mult][OH][OW], through that channel's mult kernels and biases; <paramref name="pre"/> on every input value read
    /// (the padding stays zero), <paramref name="post"/> on every output stored.
    /// </summary>
    public static void Planes(float* input, nint inPlane, float* weights, float* bias, int mult, float* output, nint outPlanes,
        int firstChannel, int channels, int count, in FusedActivation pre, in FusedActivation post, in DepthwiseGeometry g, float* scratch)
    {
        var kernel = new Kernel(new RunArgs(input, inPlane, weights, bias, mult, output, outPlanes, firstChannel, channels, count, scratch), g);
        FusedActivations.Run(pre, post, ref kernel);
    }

    /// <summary>The run's pointers and counts.</summary>
    private readonly struct RunArgs(float* input, nint inPlane, float* weights, float* bias, int mult, float* output, nint outPlanes,
        int firstChannel, int channels, int count, float* scratch)
    {
        public readonly float* Input = input, Weights = weights, Bias = bias, Output = output, Scratch = scratch;
        public readonly nint InPlane = inPlane, OutPlanes = outPlanes;
        public readonly int Mult = mult, FirstChannel = firstChannel, Channels = channels, Count = count;
    }

    private readonly struct Kernel(RunArgs run, DepthwiseGeometry g) : IFusedKernel
    {
        public void Run<TIn, TOut>(in TIn pre, in TOut post)
            where TIn : struct, IUnaryOperator
            where TOut : struct, IUnaryOperator => DepthwiseFlat.Run(pre, post, run, g);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TIn, TOut>(in TIn pre, in TOut post, in RunArgs run, in DepthwiseGeometry g)
        where TIn : struct, IUnaryOperator
        where TOut : struct, IUnaryOperator
    {
        Layout l = new(g);
        int kk = g.KH * g.KW, w = g.W, inputVectors = l.InputVectors;

        // The tap table: tap (ky, kx) reads the copy for dx = kx - left at offset dy*W + dx from position 0.
        nint* offsets = stackalloc nint[kk];
        for (int ky = 0; ky < g.KH; ky++)
            for (int kx = 0; kx < g.KW; kx++)
                offsets[ky * g.KW + kx] = (nint)kx * l.Length + l.Margin + (ky - g.Top) * w + kx - g.Left;

        // Per copied vector and column shift dx: the lanes a shifted tap may read without wrapping, position p being
        // column p % W (dx < 0 wraps into columns [W + dx, W) of the row above, dx > 0 into [0, dx) of the row below).
        Vector512<float>* keep = stackalloc Vector512<float>[l.DxCount * inputVectors];
        int* lanes = stackalloc int[16];
        for (int d = 0; d < l.DxCount; d++)
        {
            int dx = l.DxMin + d;
            for (int v = 0; v < inputVectors; v++)
            {
                for (int e = 0; e < 16; e++)
                {
                    int col = (16 * v + e) % w;
                    lanes[e] = (dx < 0 ? col < w + dx : col >= dx) ? -1 : 0;
                }

                keep[d * inputVectors + v] = Vector512.Load(lanes).AsSingle();
            }
        }

        // Copies start zeroed; only the plane's own vectors are written per plane, so the zero rows around it stay.
        int group = l.Group;
        float* slots = (float*)(((nint)run.Scratch + 63) & ~(nint)63);
        new Span<float>(slots, group * l.SlotFloats).Clear();

        int outputs = g.OH * g.OW, floats = g.H * w;
        for (int k0 = 0; k0 < run.Count; k0 += group)
        {
            int n = Math.Min(group, run.Count - k0);
            for (int k = 0; k < n; k++)
                Copy(pre, run.Input + (k0 + k) * run.InPlane, slots + k * l.SlotFloats, l, floats, keep);

            for (int k = 0; k < n; k++)
            {
                int ch = (run.FirstChannel + k0 + k) % run.Channels;
                float* slot = slots + k * l.SlotFloats, o = run.Output + (k0 + k) * run.OutPlanes;
                for (int m = 0; m < run.Mult; m++)
                {
                    float* wt = run.Weights + ((nint)ch * run.Mult + m) * kk;
                    Compute(post, slot, offsets, kk, wt, run.Bias[ch * run.Mult + m], o + (nint)m * outputs, outputs);
                }
            }
        }
    }

    /// <summary>
    /// One plane into its copies in whole vectors: each 16 floats loaded once (activated) and stored, aligned, to the copy
    /// of every column shift, its wrapped columns zeroed; the shift dx = 0 needs no zeroing. Positions past the plane (rows
    /// below it) stay zero: the last vector is loaded masked and zeroed past the plane after the activation.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Copy<TIn>(in TIn pre, float* input, float* slot, in Layout l, int floats, Vector512<float>* keep)
        where TIn : struct, IUnaryOperator
    {
        float* at = slot + l.Margin;
        nint length = l.Length;
        int vectors = l.InputVectors, dxCount = l.DxCount, zero = -l.DxMin;
        for (int v = 0; v < vectors; v++, at += 16)
        {
            int count = floats - 16 * v;
            Vector512<float> x;
            if (count >= 16)
            {
                x = Vector512.Load(input + 16 * v);
                if (typeof(TIn) != typeof(IdentityOperator)) x = pre.Invoke(x);
            }
            else
            {
                Vector512<float> tail = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();
                x = Avx512F.MaskLoad(input + 16 * v, tail, Vector512<float>.Zero);
                if (typeof(TIn) != typeof(IdentityOperator)) x = pre.Invoke(x) & tail;
            }

            for (int d = 0; d < dxCount; d++)
            {
                Vector512<float> y = d == zero ? x : x & keep[d * vectors + v];
                y.Store(at + d * length);
            }
        }
    }

    /// <summary>
    /// One output plane (at most 64 outputs) from its copies: four output vectors, each tap one broadcast weight and four
    /// loads into four independent FMA chains; the vectors past the plane's outputs are computed and not stored.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Compute<TOut>(in TOut post, float* slot, nint* offsets, int taps, float* w, float b, float* output, int outputs)
        where TOut : struct, IUnaryOperator
    {
        Vector512<float> a0 = Vector512.Create(b), a1 = a0, a2 = a0, a3 = a0;
        for (int t = 0; t < taps; t++)
        {
            Vector512<float> wt = Vector512.Create(w[t]);
            float* p = slot + offsets[t];
            a0 = Vector512.FusedMultiplyAdd(Vector512.Load(p), wt, a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 16), wt, a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 32), wt, a2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 48), wt, a3);
        }

        Store(output, 0, outputs, post.Invoke(a0));
        Store(output, 16, outputs, post.Invoke(a1));
        Store(output, 32, outputs, post.Invoke(a2));
        Store(output, 48, outputs, post.Invoke(a3));
    }

    /// <summary>Outputs [at, at + 16) that exist: whole, masked at the plane's end, or none past it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* output, int at, int outputs, Vector512<float> v)
    {
        if (at + 16 <= outputs) v.Store(output + at);
        else if (at < outputs) Avx512F.MaskStore(output + at, Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(outputs - at)).AsSingle(), v);
    }
}
