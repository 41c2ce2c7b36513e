using CnnService.Engine.Format;

namespace CnnService.Engine.Layers;

/// <summary>
/// The geometry a convolution and a pooling layer share: kernel, stride and the padding on each
/// side, and PyTorch's floor rule for the output size, OH = (H + top + bottom - kh) / sh + 1.
/// Every impossible configuration is refused here, at load time, naming the layer.
/// </summary>
internal readonly record struct Window2D(int KH, int KW, int SH, int SW, int Top, int Bottom, int Left, int Right, int OH, int OW)
{
    public bool HasPadding => Top + Bottom + Left + Right > 0;

    /// <param name="defaultStrideIsKernel">Pooling layers stride by their kernel unless told otherwise.</param>
    /// <param name="dilation">A convolution's spacing between taps; the window then spans dilation*(kernel-1)+1.</param>
    public static Window2D Resolve(LayerSpec spec, string where, int h, int w, bool defaultStrideIsKernel, Pair? dilation = null)
    {
        Pair kernel = spec.Kernel ?? throw new ModelFormatException($"{where}: \"kernel\" is required.");
        Pair stride = spec.Stride ?? (defaultStrideIsKernel ? kernel : new Pair(1, 1));
        if (kernel.H < 1 || kernel.W < 1 || stride.H < 1 || stride.W < 1)
            throw new ModelFormatException($"{where}: kernel and stride must be positive.");
        Pair dil = dilation ?? new Pair(1, 1);
        if (dil.H < 1 || dil.W < 1)
            throw new ModelFormatException($"{where}: dilation must be positive, got {dil}.");
        long spanH = (long)dil.H * (kernel.H - 1) + 1, spanW = (long)dil.W * (kernel.W - 1) + 1;

        int top, bottom, left, right;
        switch (spec.Padding.Kind)
        {
            case PaddingKind.Same:
                if (stride != new Pair(1, 1))
                    throw new ModelFormatException($"{where}: padding \"same\" needs stride 1, got {stride}.");
                // PyTorch's "same": the extra row or column, when kernel-1 is odd, goes bottom/right.
                top = (int)((spanH - 1) / 2); bottom = (int)(spanH - 1 - top);
                left = (int)((spanW - 1) / 2); right = (int)(spanW - 1 - left);
                break;
            case PaddingKind.Valid:
                top = bottom = left = right = 0;
                break;
            default:
                (top, left, bottom, right) = (spec.Padding.Top, spec.Padding.Left, spec.Padding.Bottom, spec.Padding.Right);
                if (Math.Min(Math.Min(top, bottom), Math.Min(left, right)) < 0)
                    throw new ModelFormatException($"{where}: padding must not be negative.");
                break;
        }

        long paddedH = (long)h + top + bottom, paddedW = (long)w + left + right;
        if (spanH > paddedH || spanW > paddedW)
            throw new ModelFormatException(dil == new Pair(1, 1)
                ? $"{where}: kernel {kernel} is larger than the padded input {paddedH}x{paddedW}."
                : $"{where}: kernel {kernel} with dilation {dil} spans {spanH}x{spanW}, larger than the padded input {paddedH}x{paddedW}.");
        long oh = (paddedH - spanH) / stride.H + 1, ow = (paddedW - spanW) / stride.W + 1;
        if (oh < 1 || ow < 1)
            throw new ModelFormatException($"{where}: the output would be empty ({oh}x{ow}).");
        return new Window2D(kernel.H, kernel.W, stride.H, stride.W, top, bottom, left, right, (int)oh, (int)ow);
    }
}
