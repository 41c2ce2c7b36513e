using System.Runtime.CompilerServices;

namespace CnnService.Engine.Kernels;

/// <summary>
/// Copies [N*C] planes of H x W into planes of (top+H+bottom) x (left+W+right), filling the border
/// with zeros or with PyTorch's "reflect" (the edge itself not repeated: ..., x2, x1 | x0, x1, x2, ...).
/// Padding once up front means im2col never tests a bound.
/// </summary>
internal static unsafe class Pad
{
    /// <summary>Writes padded rows [rowStart, rowEnd) of every plane: threads split a batch by position, as the GEMM that reads it does.</summary>
    public static void Apply(float* src, float* dst, int planes, int h, int w, int top, int bottom, int left, int right, bool reflect, int rowStart, int rowEnd)
    {
        int hp = h + top + bottom, wp = w + left + right;
        Band(src, dst + (nint)rowStart * wp, (nint)hp * wp, planes, h, w, top, bottom, left, right, reflect, rowStart, rowEnd);
    }

    /// <summary>Padded rows [rowStart, rowEnd) of every plane into a band: row y of plane p at
    /// <paramref name="dst"/> + p * <paramref name="bandPlane"/> + (y - rowStart) * Wp. A thread that pads
    /// only the rows its own outputs read (<see cref="DirectConv"/>) keeps them in its cache.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Band(float* src, float* dst, nint bandPlane, int planes, int h, int w, int top, int bottom, int left, int right, bool reflect, int rowStart, int rowEnd)
    {
        int wp = w + left + right;
        for (int plane = 0; plane < planes; plane++)
        {
            float* s = src + (nint)plane * h * w;
            float* d = dst + plane * bandPlane - (nint)rowStart * wp;
            for (int y = rowStart; y < rowEnd; y++)
            {
                float* row = d + (nint)y * wp;
                int sy = y - top;
                if (!reflect && (sy < 0 || sy >= h))
                {
                    new Span<float>(row, wp).Clear();
                    continue;
                }

                float* srcRow = s + (nint)Reflect(sy, h) * w;
                new ReadOnlySpan<float>(srcRow, w).CopyTo(new Span<float>(row + left, w));
                for (int x = 0; x < left; x++) row[x] = reflect ? srcRow[Reflect(x - left, w)] : 0f;
                for (int x = left + w; x < wp; x++) row[x] = reflect ? srcRow[Reflect(x - left, w)] : 0f;
            }
        }
    }

    /// <summary>Mirror index i into [0, n) without repeating the edge; valid while padding &lt; n.</summary>
    internal static int Reflect(int i, int n) => i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
}
