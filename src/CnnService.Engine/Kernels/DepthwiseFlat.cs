using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnService.Engine.Kernels;

/// <summary>
/// Depthwise convolution of small planes (7x7, 14x14, 28x28 outputs; AVX-512 only), a run of planes at a time. The banded
/// path of <see cref="DepthwiseConv"/> spent most of a 7x7 or 14x14 plane on its per-row work: a padded copy row by row,
/// four-row blocks of one narrow vector each, masked stores per row (about 500 ns a plane, a tenth of it arithmetic).
/// Here the output plane is one flat run of OH*OW floats and each tap is one flat offset into a copy of the input laid out
/// with the output's row stride OW: output p = oy*OW + ox reads copy position p + dy*OW + dx. At stride 2 the copy is split
/// into S*S phases (input rows S*i + rp, columns S*j + cp), so a tap is again a plain offset, into phase (rp, cp). A tap
/// whose column leaves the row (ox + dx outside [0, OW)) would wrap into the row above or below; it reads a second copy
/// of the phase whose wrapped columns are zero instead, one copy per column shift dx. Every tap is then a whole 16-float
/// load: four output vectors take the same broadcast weight, four independent FMA chains.
/// <para>Planes are copied a group at a time, then computed: the copies are row stores at odd offsets, and a load that
/// spans several stores still in flight waits for them to retire; a group later they have.</para>
/// <para>Every output sums the bias, then its KH*KW taps in (ky, kx) order, padding taps included as zeros: the same
/// sums, in the same order, as the banded path, so the two agree bit for bit.</para>
/// </summary>
internal static unsafe class DepthwiseFlat
{
    /// <summary>Output vectors computed together: four independent chains of FMAs.</summary>
    private const int Block = 4;

    /// <summary>Row width in 16-lane chunks at most (OW &lt;= 64).</summary>
    private const int MaxChunks = 4;

    /// <summary>Largest output plane taken (14x14 and 16x16): at 28x28 the banded path is as fast.</summary>
    private const int MaxOutputs = 256;

    /// <summary>Largest output plane taken for a kernel of more than nine taps at stride 1 (7x7): a 5x5 kernel needs five
    /// shifted copies, and on a 14x14 plane those cost more than the banded path's padded rows (475 against 340 ns a plane).</summary>
    private const int MaxWideKernelOutputs = 64;

    /// <summary>Taps at most (a 7x7 kernel): the tap table and copies grow with the column shifts.</summary>
    private const int MaxTaps = 49;

    /// <summary>Floats of copies per group of planes: half of L1, so a group's copies are still there when computed.</summary>
    private const int GroupFloats = 6144;

    private const int MaxGroup = 8;

    /// <summary>Whether this path takes the geometry: strides (1,1) or (2,2), and an output at least as wide as the
    /// input's columns it reads (S*OW &gt;= W, "same" padding), so a column past a row's end is padding, never input.</summary>
    public static bool Applies(in DepthwiseGeometry g) =>
        Avx512F.IsSupported && g.SH == g.SW && (g.SW == 1 || g.SW == 2) && g.SW * g.OW >= g.W && g.OW <= 16 * MaxChunks
        && (long)g.OH * g.OW <= (g.SW == 1 && g.KH * g.KW > 9 ? MaxWideKernelOutputs : MaxOutputs) && g.KH * g.KW <= MaxTaps;

    /// <summary>Floats of scratch <see cref="Planes"/> needs (for a geometry that <see cref="Applies"/>).</summary>
    public static long ScratchFloats(in DepthwiseGeometry g)
    {
        Layout l = new(g);
        return (long)l.Group * l.SlotFloats + 16;
    }

    /// <summary>Where the copies go and how far they reach, from the geometry alone.</summary>
    private readonly struct Layout
    {
        public readonly int S, Chunks, Vectors, Margin, Length, Buffers, DxMin, DxCount, SlotFloats, Group;

        public Layout(in DepthwiseGeometry g)
        {
            S = g.SW;
            Chunks = (g.OW + 15) / 16;
            int outputs = g.OH * g.OW;
            Vectors = Math.Max((outputs + 15) / 16, Block);
            int dxMin = int.MaxValue, dxMax = int.MinValue, dyMax = int.MinValue, qMin = 0, qMax = 0;
            for (int ky = 0; ky < g.KH; ky++)
            {
                int dy = FloorDiv(ky - g.Top, S);
                dyMax = Math.Max(dyMax, dy);
                for (int kx = 0; kx < g.KW; kx++)
                {
                    int dx = FloorDiv(kx - g.Left, S);
                    dxMin = Math.Min(dxMin, dx);
                    dxMax = Math.Max(dxMax, dx);
                    qMin = Math.Min(qMin, dy * g.OW + dx);
                    qMax = Math.Max(qMax, dy * g.OW + dx);
                }
            }

            DxMin = dxMin;
            DxCount = dxMax - dxMin + 1;
            Margin = (-qMin + 15) & ~15;
            // Reads reach 16*Vectors + qMax past position 0; rows up to OH + dyMax - 1 must fit whole.
            int reach = Math.Max(16 * Vectors + qMax, (g.OH + Math.Max(dyMax, 0)) * g.OW);
            Length = (Margin + reach + 15) & ~15;
            Buffers = S * S * DxCount;
            SlotFloats = Buffers * Length;
            Group = Math.Clamp(GroupFloats / SlotFloats, 1, MaxGroup);
        }

        /// <summary>Sub-plane rows that fit a copy whole.</summary>
        public int RowsFit(int ow) => (Length - Margin) / ow;

        public int Buffer(int rp, int cp, int dx) => (rp * S + cp) * DxCount + dx - DxMin;
    }

    private static int FloorDiv(int a, int s) => a >= 0 ? a / s : -((-a + s - 1) / s);

    /// <summary>
    /// Planes k = 0 .. count-1: input + k*inPlane [H][W] of channel (firstChannel + k) % channels into output + k*outPlanes,
    /// [mult][OH][OW], through that channel's mult kernels and biases; <paramref name="pre"/> on every input value read
    /// (the padding stays zero), <paramref name="post"/> on every output stored.
    /// </summary>
    public static void Planes(float* input, nint inPlane, float* weights, float* bias, int mult, float* output, nint outPlanes,
        int firstChannel, int channels, int count, in FusedActivation pre, in FusedActivation post, in DepthwiseGeometry g, float* scratch)
    {
        var run = new RunArgs(input, inPlane, weights, bias, mult, output, outPlanes, firstChannel, channels, count, scratch);
        switch (pre.Kind)
        {
            case FusedActivationKind.Clamp: Post(new ClipOperator(pre.Lo, pre.Hi), post, run, g); break;
            case FusedActivationKind.Silu: Post(default(SiluOperator), post, run, g); break;
            default: Post(default(IdentityOperator), post, run, g); break;
        }
    }

    /// <summary>The run's pointers and counts, passed down the activation dispatch as one argument.</summary>
    private readonly struct RunArgs(float* input, nint inPlane, float* weights, float* bias, int mult, float* output, nint outPlanes,
        int firstChannel, int channels, int count, float* scratch)
    {
        public readonly float* Input = input, Weights = weights, Bias = bias, Output = output, Scratch = scratch;
        public readonly nint InPlane = inPlane, OutPlanes = outPlanes;
        public readonly int Mult = mult, FirstChannel = firstChannel, Channels = channels, Count = count;
    }

    private static void Post<TIn>(in TIn pre, in FusedActivation post, in RunArgs run, in DepthwiseGeometry g)
        where TIn : struct, IUnaryOperator
    {
        switch (post.Kind)
        {
            case FusedActivationKind.Clamp: Run(pre, new ClipOperator(post.Lo, post.Hi), run, g); break;
            case FusedActivationKind.Silu: Run(pre, default(SiluOperator), run, g); break;
            default: Run(pre, default(IdentityOperator), run, g); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TIn, TOut>(in TIn pre, in TOut post, in RunArgs run, in DepthwiseGeometry g)
        where TIn : struct, IUnaryOperator
        where TOut : struct, IUnaryOperator
    {
        Layout l = new(g);
        int kk = g.KH * g.KW, chunks = l.Chunks, s = l.S;

        // The tap table: each tap's copy and flat offset from position 0 of that copy; which copies any tap reads.
        nint* offsets = stackalloc nint[kk];
        bool* used = stackalloc bool[l.Buffers];
        for (int b = 0; b < l.Buffers; b++) used[b] = false;
        for (int ky = 0; ky < g.KH; ky++)
        {
            int ey = ky - g.Top, dy = FloorDiv(ey, s), rp = ey - dy * s;
            for (int kx = 0; kx < g.KW; kx++)
            {
                int ex = kx - g.Left, dx = FloorDiv(ex, s), cp = ex - dx * s, b = l.Buffer(rp, cp, dx);
                used[b] = true;
                offsets[ky * g.KW + kx] = (nint)b * l.Length + l.Margin + dy * g.OW + dx;
            }
        }

        // Per 16-lane chunk of a row: which lanes a row store writes (j < OW), which lanes hold input columns
        // (S*j + cp < W; padding must stay zero under an activation that maps 0 elsewhere), and, per column shift,
        // which lanes a shifted tap may read without wrapping into the next or previous row.
        Vector512<float>* storeMask = stackalloc Vector512<float>[chunks];
        Vector512<float>* validMask = stackalloc Vector512<float>[s * chunks];
        Vector512<float>* shiftMask = stackalloc Vector512<float>[l.DxCount * chunks];
        Vector512<int> lane = Vector512<int>.Indices;
        for (int c = 0; c < chunks; c++)
        {
            Vector512<int> j = lane + Vector512.Create(16 * c);
            storeMask[c] = Vector512.LessThan(j, Vector512.Create(g.OW)).AsSingle();
            for (int cp = 0; cp < s; cp++) validMask[cp * chunks + c] = Vector512.LessThan(j * s + Vector512.Create(cp), Vector512.Create(g.W)).AsSingle();
            for (int d = 0; d < l.DxCount; d++)
            {
                int dx = l.DxMin + d;
                // dx < 0 wraps into columns [OW + dx, OW) of the row above; dx > 0 into columns [0, dx) of the row below.
                Vector512<int> keep = dx < 0 ? Vector512.LessThan(j, Vector512.Create(g.OW + dx))
                    : Vector512.GreaterThanOrEqual(j, Vector512.Create(dx));
                shiftMask[d * chunks + c] = keep.AsSingle();
            }
        }

        // Copies start zeroed; only rows that hold input are written per plane, so the zeros (padding) stay.
        int group = l.Group;
        float* slots = (float*)(((nint)run.Scratch + 63) & ~(nint)63);
        new Span<float>(slots, group * l.SlotFloats).Clear();

        int outputs = g.OH * g.OW, rowsFit = l.RowsFit(g.OW);
        for (int k0 = 0; k0 < run.Count; k0 += group)
        {
            int n = Math.Min(group, run.Count - k0);
            for (int k = 0; k < n; k++)
                Copy(pre, run.Input + (k0 + k) * run.InPlane, slots + k * l.SlotFloats, l, g, rowsFit, used, storeMask, validMask, shiftMask);

            for (int k = 0; k < n; k++)
            {
                int ch = (run.FirstChannel + k0 + k) % run.Channels;
                float* slot = slots + k * l.SlotFloats, o = run.Output + (k0 + k) * run.OutPlanes;
                for (int m = 0; m < run.Mult; m++)
                {
                    float* w = run.Weights + ((nint)ch * run.Mult + m) * kk;
                    Compute(post, slot, offsets, kk, w, run.Bias[ch * run.Mult + m], o + (nint)m * outputs, outputs, l.Vectors);
                }
            }
        }
    }

    /// <summary>One input plane into its copies: sub-plane row i of phase (rp, cp) is input row S*i + rp, columns S*j + cp.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Copy<TIn>(in TIn pre, float* input, float* slot, in Layout l, in DepthwiseGeometry g, int rowsFit, bool* used,
        Vector512<float>* storeMask, Vector512<float>* validMask, Vector512<float>* shiftMask)
        where TIn : struct, IUnaryOperator
    {
        int s = l.S, chunks = l.Chunks, w = g.W;
        Vector512<int> evenIndex = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        Vector512<int> oddIndex = evenIndex + Vector512<int>.One;
        for (int rp = 0; rp < s; rp++)
        {
            for (int i = 0; i < rowsFit; i++)
            {
                int r = s * i + rp;
                if (r >= g.H) break;
                float* src = input + (nint)r * w;
                nint at = l.Margin + i * g.OW;
                for (int c = 0; c < chunks; c++, at += 16)
                {
                    Vector512<float> v0, v1 = default;
                    if (s == 1)
                    {
                        v0 = LoadFirst(src + 16 * c, w - 16 * c);
                    }
                    else
                    {
                        Vector512<float> a = LoadFirst(src + 32 * c, w - 32 * c), b = LoadFirst(src + 32 * c + 16, w - 32 * c - 16);
                        v0 = Avx512F.PermuteVar16x32x2(a, evenIndex, b);
                        v1 = Avx512F.PermuteVar16x32x2(a, oddIndex, b);
                    }

                    if (typeof(TIn) != typeof(IdentityOperator))
                    {
                        v0 = pre.Invoke(v0) & validMask[c];
                        if (s == 2) v1 = pre.Invoke(v1) & validMask[chunks + c];
                    }

                    StoreShifts(slot, l, rp, 0, at, v0, used, storeMask[c], shiftMask + c, chunks);
                    if (s == 2) StoreShifts(slot, l, rp, 1, at, v1, used, storeMask[c], shiftMask + c, chunks);
                }
            }
        }
    }

    /// <summary>One chunk of a sub-plane row into every copy of phase (rp, cp) that a tap reads, wrapped columns zeroed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreShifts(float* slot, in Layout l, int rp, int cp, nint at, Vector512<float> v, bool* used,
        Vector512<float> store, Vector512<float>* shiftMask, int chunks)
    {
        int first = l.Buffer(rp, cp, l.DxMin);
        for (int d = 0; d < l.DxCount; d++)
        {
            if (!used[first + d]) continue;
            Avx512F.MaskStore(slot + (nint)(first + d) * l.Length + at, store, v & shiftMask[d * chunks]);
        }
    }

    /// <summary>The first count (any int) floats at p, the rest zero; nothing past them is read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> LoadFirst(float* p, int count)
    {
        if (count >= 16) return Vector512.Load(p);
        if (count <= 0) return Vector512<float>.Zero;
        return Avx512F.MaskLoad(p, Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle(), Vector512<float>.Zero);
    }

    /// <summary>
    /// One output plane from its copies: blocks of four output vectors, each tap one broadcast weight and four loads.
    /// The last block moves back to end at the last vector (recomputing a few); a plane of fewer than four vectors computes
    /// four and stores its own.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Compute<TOut>(in TOut post, float* slot, nint* offsets, int taps, float* w, float b, float* output, int outputs, int vectors)
        where TOut : struct, IUnaryOperator
    {
        Vector512<float> bias = Vector512.Create(b);
        for (int v0 = 0; ; v0 += Block)
        {
            if (v0 > vectors - Block) v0 = vectors - Block;
            Vector512<float> a0 = bias, a1 = bias, a2 = bias, a3 = bias;
            float* q = slot + 16 * v0;
            for (int t = 0; t < taps; t++)
            {
                Vector512<float> wt = Vector512.Create(w[t]);
                float* p = q + offsets[t];
                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(p), wt, a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 16), wt, a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 32), wt, a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 48), wt, a3);
            }

            int at = 16 * v0;
            Store(output, at, outputs, post.Invoke(a0));
            Store(output, at + 16, outputs, post.Invoke(a1));
            Store(output, at + 32, outputs, post.Invoke(a2));
            Store(output, at + 48, outputs, post.Invoke(a3));
            if (v0 + Block >= vectors) break;
        }
    }

    /// <summary>Outputs [at, at + 16) that exist: whole, masked at the plane's end, or none past it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* output, int at, int outputs, Vector512<float> v)
    {
        if (at + 16 <= outputs) v.Store(output + at);
        else if (at < outputs) Avx512F.MaskStore(output + at, Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(outputs - at)).AsSingle(), v);
    }
}
