using System.Runtime.CompilerServices;

namespace CnnService.Engine.Kernels;

/// <summary>
/// Max or average pooling of one H x W plane with any window, stride and padding. Padding is
/// never read: max ignores it (as minus infinity would be), and the average divides either by
/// the window's cells inside the input (count_include_pad false, the default) or by the window's
/// cells inside the padded input (true), PyTorch's and ONNX Runtime's divisor: a window that
/// ceil_mode lets run past the bottom or right padding counts only up to its edge. Every window
/// holds at least one input cell (<see cref="Layers.Pool2D"/> makes sure), so no mean divides by 0.
/// This is the general path and the reference for <see cref="Pool2x2"/>.
/// </summary>
internal static unsafe class PoolWindow
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Plane(float* src, float* dst, int h, int w, int kh, int kw, int sh, int sw, int top, int left, int bottom, int right,
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
