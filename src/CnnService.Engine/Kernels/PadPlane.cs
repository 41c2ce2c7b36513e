using System.Runtime.CompilerServices;

namespace CnnService.Engine.Kernels;

/// <summary>How the pad layer fills its border.</summary>
internal enum PadMode
{
    /// <summary>One value everywhere (ONNX "constant").</summary>
    Constant,
    /// <summary>Mirrored without repeating the edge: ..., x2, x1 | x0, x1, x2, ... (ONNX and PyTorch "reflect").</summary>
    Reflect,
    /// <summary>The edge value repeated (ONNX "edge", PyTorch "replicate").</summary>
    Edge,
}

/// <summary>
/// Pads one H x W plane into (top + H + bottom) x (left + W + right). Unlike <see cref="Pad"/>
/// (zeros or reflect, by row bands, for the convolutions) it fills any constant and repeats edges.
/// Rows inside the input are one copy plus the two borders; whole border rows are a fill or a copy.
/// </summary>
internal static unsafe class PadPlane
{
    /// <summary>Reflect needs every padding below the side it mirrors (checked by the layer).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Plane(float* src, float* dst, int h, int w, int top, int left, int bottom, int right, PadMode mode, float value)
    {
        int wp = left + w + right, hp = top + h + bottom;
        for (int y = 0; y < hp; y++)
        {
            float* row = dst + (nint)y * wp;
            int sy = y - top;
            if (mode == PadMode.Constant && (sy < 0 || sy >= h))
            {
                new Span<float>(row, wp).Fill(value);
                continue;
            }

            float* from = src + (nint)Source(sy, h, mode) * w;
            new ReadOnlySpan<float>(from, w).CopyTo(new Span<float>(row + left, w));
            for (int x = 0; x < left; x++) row[x] = mode == PadMode.Constant ? value : from[Source(x - left, w, mode)];
            for (int x = left + w; x < wp; x++) row[x] = mode == PadMode.Constant ? value : from[Source(x - left, w, mode)];
        }
    }

    /// <summary>The input index a padded index reads: mirrored for reflect, clamped for edge.</summary>
    internal static int Source(int i, int n, PadMode mode) => mode == PadMode.Reflect ? Pad.Reflect(i, n) : Math.Clamp(i, 0, n - 1);
}
