using System.Runtime.CompilerServices;

namespace CnnService.Engine.Kernels;

/// <summary>
/// Max or average pooling of one H x W plane with any window, stride and padding. Padding is
/// never a value: max ignores it, and the average divides by the cells inside the input only
/// (PyTorch's count_include_pad=False). This is the general path and the reference for <see cref="Pool2x2"/>.
/// </summary>
internal static unsafe class PoolWindow
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Plane(float* src, float* dst, int h, int w, int kh, int kw, int sh, int sw, int top, int left, int oh, int ow, bool max)
    {
        for (int oy = 0; oy < oh; oy++)
        {
            int y0 = oy * sh - top, y1 = Math.Min(y0 + kh, h);
            y0 = Math.Max(y0, 0);
            for (int ox = 0; ox < ow; ox++)
            {
                int x0 = ox * sw - left, x1 = Math.Min(x0 + kw, w);
                x0 = Math.Max(x0, 0);
                float acc = max ? float.NegativeInfinity : 0f;
                for (int y = y0; y < y1; y++)
                {
                    float* row = src + (nint)y * w;
                    for (int x = x0; x < x1; x++) acc = max ? MathF.Max(acc, row[x]) : acc + row[x];
                }

                dst[oy * ow + ox] = max ? acc : acc / ((y1 - y0) * (x1 - x0));
            }
        }
    }
}
