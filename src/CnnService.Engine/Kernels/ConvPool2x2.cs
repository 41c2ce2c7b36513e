using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Kernels;

/// <summary>
/// A stride-1 unpadded convolution with few taps (C * KH * KW up to <see cref="MaxTaps"/>, as a first layer on
/// 1 or 3 channels), its bias, an optional ReLU and the 2x2 stride-2 max pool after it, in one pass: pooled
/// columns in the lanes, no im2col and no full-size output. im2col would copy every input pixel K times to
/// feed a GEMM whose K is only 9; the pool would then read back the whole conv output.
/// <para>
/// Pooled column j reads conv columns 2j and 2j+1, which read input columns 2j + s for s in [0, KW]. So each
/// input row is first split into KW+1 "phase" vectors, phase s holding columns s, s+2, s+4, ... (16 pooled
/// columns at a time, <see cref="Deinterleave"/>). Then tap (c, ky, kx) of conv row 2py+dy, column parity p
/// is one FMA of a broadcast weight with phase p+kx of input row 2py+dy+ky: the pool's four cells are four
/// accumulators, max-ed at the end with no shuffle. Four output channels share each tap's four loads
/// (16 FMAs per 8 loads). Since max commutes with adding a constant and with the ReLU, the bias and ReLU
/// are applied once, to the pooled value.
/// </para>
/// </summary>
internal static unsafe class ConvPool2x2
{
    /// <summary>Pooled columns per vector, and per block of a row.</summary>
    public const int Lanes = 16;

    /// <summary>Output channels computed together: each weight broadcast feeds four FMAs, each load sixteen.</summary>
    public const int Group = 4;

    /// <summary>The most taps (C * KH * KW): beyond that K is deep enough for the GEMM to do well.</summary>
    public const int MaxTaps = 32;

    public static bool IsSupported => Avx512F.IsSupported;

    /// <summary>Whether a level runs the fused kernel: Vector512 with AVX-512, Vector256 (<see cref="Row256"/>,
    /// <see cref="Deinterleave256"/>) with AVX2 and FMA.</summary>
    public static bool Supports(SimdLevel level) => level switch
    {
        SimdLevel.Vector512 => Avx512F.IsSupported,
        SimdLevel.Vector256 => Avx2.IsSupported && Fma.IsSupported,
        _ => false,
    };

    /// <summary>Whether a convolution this shape suits: stride 1, unpadded, few taps, a conv output of at least 2x2.</summary>
    public static bool Suits(int channels, int kh, int kw, int oh, int ow) => channels * kh * kw <= MaxTaps && oh >= 2 && ow >= 2;

    /// <summary>Column blocks of a pooled row <paramref name="pw"/> wide.</summary>
    public static int Blocks(int pw) => (pw + Lanes - 1) / Lanes;

    /// <summary>Floats of one block's phase vectors: [C][H][KW + 1][Lanes].</summary>
    public static int PhaseFloats(int channels, int h, int kw) => channels * h * (kw + 1) * Lanes;

    /// <summary>Weights [M, T] (T = C * KH * KW taps, PyTorch order) as [ceil(M/4)][T][4], channels past M zero.</summary>
    public static float[] Pack(ReadOnlySpan<float> w, int m, int taps)
    {
        int groups = (m + Group - 1) / Group;
        var packed = new float[groups * taps * Group];
        for (int i = 0; i < m; i++)
            for (int t = 0; t < taps; t++) packed[((i / Group) * taps + t) * Group + i % Group] = w[i * taps + t];
        return packed;
    }

    /// <summary>Each tap's offset into the phase vectors, in floats, for conv row 0 and parity 0: tap (c, ky, kx) reads
    /// phase kx of input row ky of channel c.</summary>
    public static int[] Taps(int channels, int h, int kh, int kw)
    {
        var taps = new int[channels * kh * kw];
        for (int c = 0, t = 0; c < channels; c++)
            for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++) taps[t++] = ((c * h + ky) * (kw + 1) + kx) * Lanes;
        return taps;
    }

    /// <summary>
    /// Phase vectors of one image [C, H, W] for pooled columns [j0, j0 + cols): d[c][r][s][j] = image[c, r, 2(j0 + j) + s],
    /// zero for j at or past cols (lanes no store keeps). Plain copies: the scalar twin of <see cref="DeinterleaveVector"/> and <see cref="Deinterleave256"/>.
    /// </summary>
    public static void Deinterleave(float* image, int channels, int h, int w, int kw, int j0, int cols, float* d)
    {
        for (int c = 0; c < channels; c++)
        {
            for (int r = 0; r < h; r++)
            {
                float* row = image + ((nint)c * h + r) * w + 2 * j0;
                float* phases = d + ((nint)c * h + r) * (kw + 1) * Lanes;
                for (int s = 0; s <= kw; s++)
                {
                    float* dst = phases + s * Lanes;
                    int j = 0;
                    for (; j < cols; j++) dst[j] = row[2 * j + s];
                    for (; j < Lanes; j++) dst[j] = 0f;
                }
            }
        }
    }

    /// <summary>
    /// <see cref="Deinterleave"/> with AVX-512: each phase of a row is two masked loads (never past the row's end) and one
    /// two-source permute of the even lanes, zeroed from lane <paramref name="cols"/> on, where the plain copy moves one float
    /// at a time (Keras' MNIST layer: 0.39 to 0.35 ms per 64 images, one thread, measured on a busy machine).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DeinterleaveVector(float* image, int channels, int h, int w, int kw, int j0, int cols, float* d)
    {
        Vector512<int> evens = Vector512<int>.Indices * 2;
        Vector512<float> keep = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(cols)).AsSingle();
        for (int c = 0; c < channels; c++)
        {
            for (int r = 0; r < h; r++)
            {
                float* row = image + ((nint)c * h + r) * w + 2 * j0;
                float* phases = d + ((nint)c * h + r) * (kw + 1) * Lanes;
                for (int s = 0; s <= kw; s++)
                {
                    // Phase s is columns s, s + 2, ... of the row from 2 * j0: the 32 floats from s, less any past the row's end.
                    int left = w - 2 * j0 - s;
                    Vector512<float> lo = Avx512F.MaskLoad(row + s, Below(left), Vector512<float>.Zero);
                    Vector512<float> hi = Avx512F.MaskLoad(row + s + Lanes, Below(left - Lanes), Vector512<float>.Zero);
                    Vector512.Store(Avx512F.PermuteVar16x32x2(lo, evens, hi) & keep, phases + s * Lanes);
                }
            }
        }
    }

    /// <summary>The lanes below <paramref name="count"/> (none for a count of zero or less).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Below(int count) => Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();

    /// <summary>
    /// <see cref="DeinterleaveVector"/> with AVX2: each half of a phase (8 pooled columns) is two masked loads of 8 floats,
    /// each sorted to [evens | odds] and the two evens' halves joined. The plain copy cost Keras' MNIST layer 7 % of its time
    /// at Vector256.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Deinterleave256(float* image, int channels, int h, int w, int kw, int j0, int cols, float* d)
    {
        const int Half = Lanes / 2;
        Vector256<int> order = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
        Vector256<float> keepLo = Below256(cols), keepHi = Below256(cols - Half);
        for (int c = 0; c < channels; c++)
        {
            for (int r = 0; r < h; r++)
            {
                float* row = image + ((nint)c * h + r) * w + 2 * j0;
                float* phases = d + ((nint)c * h + r) * (kw + 1) * Lanes;
                for (int s = 0; s <= kw; s++)
                {
                    // Phase s is columns s, s + 2, ... of the row from 2 * j0: the 32 floats from s, less any past the row's end.
                    float* from = row + s;
                    int left = w - 2 * j0 - s;
                    Vector256<float> q0 = Avx2.PermuteVar8x32(Avx.MaskLoad(from, Below256(left)), order);
                    Vector256<float> q1 = Avx2.PermuteVar8x32(Avx.MaskLoad(from + 8, Below256(left - 8)), order);
                    Vector256<float> q2 = Avx2.PermuteVar8x32(Avx.MaskLoad(from + 16, Below256(left - 16)), order);
                    Vector256<float> q3 = Avx2.PermuteVar8x32(Avx.MaskLoad(from + 24, Below256(left - 24)), order);
                    Vector256.Store(Avx.Permute2x128(q0, q1, 0x20) & keepLo, phases + s * Lanes);
                    Vector256.Store(Avx.Permute2x128(q2, q3, 0x20) & keepHi, phases + s * Lanes + Half);
                }
            }
        }
    }

    /// <summary>The lanes below <paramref name="count"/> of a 256-bit vector (none for a count of zero or less).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Below256(int count) => Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(count)).AsSingle();

    /// <summary>
    /// Pooled row <paramref name="py"/>, columns [0, cols) of the block <paramref name="d"/> holds, for all M channels:
    /// output[i * outPlane + j] = relu?(bias[i] + max over the 2x2 window of the conv). <paramref name="rowStride"/> is
    /// one input row of phase vectors, (KW + 1) * <see cref="Lanes"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row(float* weights, float* bias, int m, float* d, int* taps, int tapCount, int rowStride, int py, float* output, nint outPlane, int cols, bool relu)
    {
        float* top = d + (nint)2 * py * rowStride;
        Vector512<float> mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(cols)).AsSingle();
        for (int i0 = 0; i0 < m; i0 += Group)
        {
            float* wg = weights + (nint)i0 * tapCount;
            Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default; // channel i0: [row dy][parity p]
            Vector512<float> b00 = default, b01 = default, b10 = default, b11 = default;
            Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
            Vector512<float> e00 = default, e01 = default, e10 = default, e11 = default;
            for (int t = 0; t < tapCount; t++)
            {
                float* p = top + taps[t];
                Vector512<float> x00 = Vector512.Load(p), x01 = Vector512.Load(p + Lanes);
                Vector512<float> x10 = Vector512.Load(p + rowStride), x11 = Vector512.Load(p + rowStride + Lanes);
                float* wt = wg + t * Group;
                Vector512<float> w = Vector512.Create(wt[0]);
                a00 = Vector512.FusedMultiplyAdd(x00, w, a00);
                a01 = Vector512.FusedMultiplyAdd(x01, w, a01);
                a10 = Vector512.FusedMultiplyAdd(x10, w, a10);
                a11 = Vector512.FusedMultiplyAdd(x11, w, a11);
                w = Vector512.Create(wt[1]);
                b00 = Vector512.FusedMultiplyAdd(x00, w, b00);
                b01 = Vector512.FusedMultiplyAdd(x01, w, b01);
                b10 = Vector512.FusedMultiplyAdd(x10, w, b10);
                b11 = Vector512.FusedMultiplyAdd(x11, w, b11);
                w = Vector512.Create(wt[2]);
                c00 = Vector512.FusedMultiplyAdd(x00, w, c00);
                c01 = Vector512.FusedMultiplyAdd(x01, w, c01);
                c10 = Vector512.FusedMultiplyAdd(x10, w, c10);
                c11 = Vector512.FusedMultiplyAdd(x11, w, c11);
                w = Vector512.Create(wt[3]);
                e00 = Vector512.FusedMultiplyAdd(x00, w, e00);
                e01 = Vector512.FusedMultiplyAdd(x01, w, e01);
                e10 = Vector512.FusedMultiplyAdd(x10, w, e10);
                e11 = Vector512.FusedMultiplyAdd(x11, w, e11);
            }

            int left = m - i0;
            float* o = output + (nint)i0 * outPlane;
            Store(o, Pool(a00, a01, a10, a11), bias[i0], relu, mask);
            if (left > 1) Store(o + outPlane, Pool(b00, b01, b10, b11), bias[i0 + 1], relu, mask);
            if (left > 2) Store(o + 2 * outPlane, Pool(c00, c01, c10, c11), bias[i0 + 2], relu, mask);
            if (left > 3) Store(o + 3 * outPlane, Pool(e00, e01, e10, e11), bias[i0 + 3], relu, mask);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Pool(Vector512<float> v00, Vector512<float> v01, Vector512<float> v10, Vector512<float> v11) =>
        Avx512F.Max(Avx512F.Max(v00, v01), Avx512F.Max(v10, v11));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* o, Vector512<float> pooled, float bias, bool relu, Vector512<float> mask)
    {
        Vector512<float> v = pooled + Vector512.Create(bias);
        if (relu) v = Avx512F.Max(v, Vector512<float>.Zero);
        Avx512F.MaskStore(o, mask, v);
    }

    /// <summary>
    /// <see cref="Row"/> with 256-bit vectors (AVX2): each block's 16 pooled columns as two halves of 8, three channels at a
    /// time: 12 accumulators, three broadcast weights and one input vector fill the 16 ymm registers of a CPU without
    /// AVX-512 exactly. Two channels (8 accumulators) left each accumulator's chain of FMAs as long as the FMAs themselves
    /// and made 6 loads per 8 FMAs: 2.2x the Vector512 time on Zen 4, whose two widths have the same peak. A last group
    /// past M computes its missing channels from the last one and stores nothing for them. The same FMAs in the same order
    /// per output, the same max order, so the same bits as <see cref="Row"/> and <see cref="RowScalar"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row256(float* weights, float* bias, int m, float* d, int* taps, int tapCount, int rowStride, int py, float* output, nint outPlane, int cols, bool relu)
    {
        const int Half = Lanes / 2;
        float* top = d + (nint)2 * py * rowStride;
        for (int half = 0; half < cols; half += Half)
        {
            int count = Math.Min(Half, cols - half);
            for (int i0 = 0; i0 < m; i0 += 3)
            {
                float* wa = ChannelWeights(weights, tapCount, i0), wb = ChannelWeights(weights, tapCount, Math.Min(i0 + 1, m - 1));
                float* wc = ChannelWeights(weights, tapCount, Math.Min(i0 + 2, m - 1));
                Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default;
                Vector256<float> b00 = default, b01 = default, b10 = default, b11 = default;
                Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
                for (int t = 0; t < tapCount; t++)
                {
                    float* p = top + taps[t] + half;
                    Vector256<float> wa0 = Vector256.Create(wa[t * Group]), wb0 = Vector256.Create(wb[t * Group]), wc0 = Vector256.Create(wc[t * Group]);
                    Vector256<float> x = Vector256.Load(p);
                    a00 = Fma.MultiplyAdd(x, wa0, a00);
                    b00 = Fma.MultiplyAdd(x, wb0, b00);
                    c00 = Fma.MultiplyAdd(x, wc0, c00);
                    x = Vector256.Load(p + Lanes);
                    a01 = Fma.MultiplyAdd(x, wa0, a01);
                    b01 = Fma.MultiplyAdd(x, wb0, b01);
                    c01 = Fma.MultiplyAdd(x, wc0, c01);
                    x = Vector256.Load(p + rowStride);
                    a10 = Fma.MultiplyAdd(x, wa0, a10);
                    b10 = Fma.MultiplyAdd(x, wb0, b10);
                    c10 = Fma.MultiplyAdd(x, wc0, c10);
                    x = Vector256.Load(p + rowStride + Lanes);
                    a11 = Fma.MultiplyAdd(x, wa0, a11);
                    b11 = Fma.MultiplyAdd(x, wb0, b11);
                    c11 = Fma.MultiplyAdd(x, wc0, c11);
                }

                float* o = output + (nint)i0 * outPlane + half;
                Store256(o, Avx.Max(Avx.Max(a00, a01), Avx.Max(a10, a11)), bias[i0], relu, count);
                if (i0 + 1 < m) Store256(o + outPlane, Avx.Max(Avx.Max(b00, b01), Avx.Max(b10, b11)), bias[i0 + 1], relu, count);
                if (i0 + 2 < m) Store256(o + 2 * outPlane, Avx.Max(Avx.Max(c00, c01), Avx.Max(c10, c11)), bias[i0 + 2], relu, count);
            }
        }
    }

    /// <summary>Channel <paramref name="i"/>'s first weight in the packed [ceil(M/4)][T][4] layout; its next tap's is <see cref="Group"/> floats on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* ChannelWeights(float* weights, int tapCount, int i) => weights + (nint)(i / Group) * Group * tapCount + i % Group;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(float* o, Vector256<float> pooled, float bias, bool relu, int count)
    {
        Vector256<float> v = pooled + Vector256.Create(bias);
        if (relu) v = Avx.Max(v, Vector256<float>.Zero);
        Lanes256.StoreFirst(o, v, count);
    }

    /// <summary>The scalar twin of <see cref="Row"/>: the same FMAs in the same order, the same max order, so the same bits.</summary>
    public static void RowScalar(float* weights, float* bias, int m, float* d, int* taps, int tapCount, int rowStride, int py, float* output, nint outPlane, int cols, bool relu)
    {
        float* top = d + (nint)2 * py * rowStride;
        for (int i = 0; i < m; i++)
        {
            float* wi = ChannelWeights(weights, tapCount, i);
            for (int j = 0; j < cols; j++)
            {
                float s00 = 0f, s01 = 0f, s10 = 0f, s11 = 0f;
                for (int t = 0; t < tapCount; t++)
                {
                    float* p = top + taps[t] + j;
                    float w = wi[t * Group];
                    s00 = MathF.FusedMultiplyAdd(p[0], w, s00);
                    s01 = MathF.FusedMultiplyAdd(p[Lanes], w, s01);
                    s10 = MathF.FusedMultiplyAdd(p[rowStride], w, s10);
                    s11 = MathF.FusedMultiplyAdd(p[rowStride + Lanes], w, s11);
                }

                float v = Max(Max(s00, s01), Max(s10, s11)) + bias[i];
                output[i * outPlane + j] = relu ? Max(v, 0f) : v;
            }
        }
    }

    /// <summary>vmaxps's rule: the second operand unless the first is greater.</summary>
    private static float Max(float a, float b) => a > b ? a : b;
}
