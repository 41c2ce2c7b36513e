using System.Runtime.CompilerServices;

namespace CnnService.Engine.Kernels;

/// <summary>
/// B for a dense layer: column j is row j of the row-major [N][K] input (one image's features),
/// so packing is a small transpose of NR rows into the [K][NR] panel.
/// </summary>
internal readonly unsafe struct RowPacker(float* input, int k) : IPanelPacker
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(int j0, int count, int k0, int depth, float* panel, int nr)
    {
        for (int jj = 0; jj < count; jj++)
        {
            float* src = input + (nint)(j0 + jj) * k + k0;
            float* dst = panel + jj;
            for (int kk = 0; kk < depth; kk++)
            {
                dst[(nint)kk * nr] = src[kk];
            }
        }

        if (count < nr)
        {
            for (int kk = 0; kk < depth; kk++)
            {
                new Span<float>(panel + (nint)kk * nr + count, nr - count).Clear();
            }
        }
    }
}
