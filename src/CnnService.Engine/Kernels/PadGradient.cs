using System.Runtime.CompilerServices;

namespace CnnService.Engine.Kernels;

/// <summary>
/// The adjoint of <see cref="Pad"/>: folds the gradient of [planes] padded planes back onto the
/// H x W planes they were copied from. Zero padding simply drops the border; reflect padding
/// adds each border cell onto the input cell it mirrored.
/// </summary>
internal static unsafe class PadGradient
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Apply(float* dPadded, float* dInput, int planes, int h, int w, int top, int bottom, int left, int right, bool reflect)
    {
        int hp = h + top + bottom, wp = w + left + right;
        for (int plane = 0; plane < planes; plane++)
        {
            float* s = dPadded + (nint)plane * hp * wp;
            float* d = dInput + (nint)plane * h * w;
            for (int y = 0; y < h; y++)
                new ReadOnlySpan<float>(s + (nint)(y + top) * wp + left, w).CopyTo(new Span<float>(d + (nint)y * w, w));
            if (!reflect) continue;

            for (int y = 0; y < hp; y++)
            {
                int sy = Reflect(y - top, h);
                bool borderRow = y < top || y >= top + h;
                for (int x = 0; x < wp; x++)
                {
                    if (!borderRow && x >= left && x < left + w) continue;
                    d[sy * w + Reflect(x - left, w)] += s[(nint)y * wp + x];
                }
            }
        }
    }

    private static int Reflect(int i, int n) => Pad.Reflect(i, n);
}
