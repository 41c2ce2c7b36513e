using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnService.Engine.Kernels;

/// <summary>
/// The copy <see cref="DepthwiseConv"/> reads: the rows and columns of one plane its outputs touch,
/// zero-padded, each row split into SW phases (phase q holds padded columns q, q+SW, ...). At stride 1
/// that is a plain padded copy; at stride 2 the split is two permutes per vector, so it costs about a
/// copy too. Wider strides (rare in depthwise layers) split in a scalar loop.
/// </summary>
internal static unsafe class DepthwisePadding
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Fill<TL, TV>(float* input, in DepthwiseGeometry g, float* dst)
        where TL : struct, ILanes<TV>
        where TV : struct
    {
        int sw = g.SW, length = g.PhaseLength;
        nint rs = g.RowStride;
        for (int r = 0; r < g.ReadHeight; r++)
        {
            float* row = dst + r * rs;
            int sy = r - g.Top;
            if (sy < 0 || sy >= g.H)
            {
                new Span<float>(row, (int)rs).Clear();
                continue;
            }

            float* src = input + (nint)sy * g.W;
            for (int q = 0; q < sw; q++)
            {
                // Entry j of phase q is padded column q + j*SW, input column q + j*SW - Left: inside for j in [lo, hi).
                float* phase = row + q * length;
                int lo = Math.Min(length, CeilDiv(g.Left - q, sw)), hi = Math.Max(lo, Math.Min(length, CeilDiv(g.W + g.Left - q, sw)));
                new Span<float>(phase, lo).Clear();
                new Span<float>(phase + hi, length - hi).Clear();
                if (hi == lo) continue;
                int first = q + lo * sw - g.Left;
                if (sw == 1) new ReadOnlySpan<float>(src + first, hi - lo).CopyTo(new Span<float>(phase + lo, hi - lo));
                else if (sw == 2) Evens(src + first, g.W - first, phase + lo, hi - lo, wide: TL.Count == 16);
                else for (int j = lo; j < hi; j++) phase[j] = src[q + j * sw - g.Left];
            }
        }
    }

    /// <summary>dst[i] = src[2i] for i &lt; count, reading no further than <paramref name="available"/> floats from src.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Evens(float* src, int available, float* dst, int count, bool wide)
    {
        int i = 0;
        if (wide && Avx512F.IsSupported)
        {
            Vector512<int> even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            for (; i + 16 <= count && 2 * i + 32 <= available; i += 16)
                Avx512F.PermuteVar16x32x2(Vector512.Load(src + 2 * i), even, Vector512.Load(src + 2 * i + 16)).Store(dst + i);
        }

        if (Avx2.IsSupported)
        {
            Vector256<int> even = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
            for (; i + 8 <= count && 2 * i + 16 <= available; i += 8)
            {
                Vector256<float> a = Avx2.PermuteVar8x32(Vector256.Load(src + 2 * i), even);
                Vector256<float> b = Avx2.PermuteVar8x32(Vector256.Load(src + 2 * i + 8), even);
                Vector256.Create(a.GetLower(), b.GetLower()).Store(dst + i);
            }
        }

        for (; i < count; i++) dst[i] = src[2 * i];
    }

    private static int CeilDiv(int a, int b) => a <= 0 ? 0 : (a + b - 1) / b;
}
