using System.Runtime.CompilerServices;

namespace CnnService.Engine.Kernels;

/// <summary>
/// B already laid out as a row-major [K][ld] matrix (an im2col buffer): packing a panel is a row
/// copy per depth step, zeros past the last column.
/// </summary>
internal readonly unsafe struct ColPacker(float* col, int ld) : IPanelPacker
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(int j0, int count, int k0, int depth, float* panel, int nr)
    {
        for (int kk = 0; kk < depth; kk++)
        {
            float* dst = panel + (nint)kk * nr;
            new ReadOnlySpan<float>(col + (nint)(k0 + kk) * ld + j0, count).CopyTo(new Span<float>(dst, count));
            if (count < nr) new Span<float>(dst + count, nr - count).Clear();
        }
    }
}
