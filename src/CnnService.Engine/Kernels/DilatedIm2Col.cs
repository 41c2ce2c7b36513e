using System.Runtime.CompilerServices;

namespace CnnService.Engine.Kernels;

/// <summary>
/// im2col with dilation, for a range of output positions: row (c, ky, kx) holds the padded input
/// value tap (ky, kx) meets at each position p in [p0, p1) of OH*OW (tap rows dh apart, columns dw
/// apart), into col [K][p1 - p0]. <see cref="Layers.GroupedConv2D"/> lowers one group of one image a
/// block of positions at a time, so the buffer stays in cache.
/// </summary>
internal static unsafe class DilatedIm2Col
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(float* image, int c, int hp, int wp, int kh, int kw, int sh, int sw, int dh, int dw, int ow, int p0, int p1, float* col)
    {
        int ld = p1 - p0;
        for (int ch = 0; ch < c; ch++)
        {
            for (int ky = 0; ky < kh; ky++)
            {
                for (int kx = 0; kx < kw; kx++)
                {
                    float* dst = col + (nint)((ch * kh + ky) * kw + kx) * ld;
                    float* plane = image + (nint)ch * hp * wp + (nint)ky * dh * wp + (nint)kx * dw;
                    int oy = p0 / ow, ox = p0 - oy * ow;
                    for (int p = p0; p < p1; oy++, ox = 0)
                    {
                        int run = Math.Min(ow - ox, p1 - p);
                        float* src = plane + (nint)oy * sh * wp + (nint)ox * sw;
                        if (sw == 1) new ReadOnlySpan<float>(src, run).CopyTo(new Span<float>(dst, run));
                        else for (int i = 0; i < run; i++) dst[i] = src[(nint)i * sw];
                        dst += run;
                        p += run;
                    }
                }
            }
        }
    }
}
