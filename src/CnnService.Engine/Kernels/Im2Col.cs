using System.Numerics;
using System.Runtime.CompilerServices;

namespace CnnService.Engine.Kernels;

// Legend: see IMicroKernel.cs. Hp, Wp: the padded input's height and width.

/// <summary>
/// The im2col lowering of "Deep Learning from Scratch", for training: one padded image
/// [C][Hp][Wp] unrolled into col [K][P], row (c, ky, kx) holding the input value that tap meets
/// at each output position, so a convolution is W[M x K] * col. <see cref="Col2Im"/> is its
/// adjoint: it adds each column entry back to the input cell it came from, which turns the
/// GEMM's d col into d input. (Inference packs the same view panel by panel, <see cref="Im2ColPacker"/>.)
/// </summary>
internal static unsafe class Im2Col
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(float* image, int c, int hp, int wp, int kh, int kw, int sh, int sw, int oh, int ow, float* col)
    {
        int p = oh * ow;
        for (int ch = 0; ch < c; ch++)
        {
            for (int ky = 0; ky < kh; ky++)
            {
                for (int kx = 0; kx < kw; kx++)
                {
                    float* row = col + (nint)((ch * kh + ky) * kw + kx) * p;
                    float* plane = image + (nint)ch * hp * wp + (nint)ky * wp + kx;
                    for (int oy = 0; oy < oh; oy++)
                    {
                        float* src = plane + (nint)oy * sh * wp;
                        float* dst = row + oy * ow;
                        if (sw == 1) new ReadOnlySpan<float>(src, ow).CopyTo(new Span<float>(dst, ow));
                        else for (int ox = 0; ox < ow; ox++) dst[ox] = src[ox * sw];
                    }
                }
            }
        }
    }

    /// <summary>image += col2im(col): the padded image must be cleared first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Col2Im(float* col, int c, int hp, int wp, int kh, int kw, int sh, int sw, int oh, int ow, float* image)
    {
        int p = oh * ow;
        for (int ch = 0; ch < c; ch++)
        {
            for (int ky = 0; ky < kh; ky++)
            {
                for (int kx = 0; kx < kw; kx++)
                {
                    float* row = col + (nint)((ch * kh + ky) * kw + kx) * p;
                    float* plane = image + (nint)ch * hp * wp + (nint)ky * wp + kx;
                    for (int oy = 0; oy < oh; oy++)
                    {
                        float* dst = plane + (nint)oy * sh * wp;
                        float* src = row + oy * ow;
                        if (sw == 1) Add(src, dst, ow);
                        else for (int ox = 0; ox < ow; ox++) dst[ox * sw] += src[ox];
                    }
                }
            }
        }
    }

    private static void Add(float* src, float* dst, int count)
    {
        int i = 0;
        for (; i <= count - Vector<float>.Count; i += Vector<float>.Count)
            (Vector.Load(dst + i) + Vector.Load(src + i)).Store(dst + i);
        for (; i < count; i++) dst[i] += src[i];
    }
}
