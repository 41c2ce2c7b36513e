using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnService.Engine.Kernels;

/// <summary>
/// B for a dense layer: column j is row j of the row-major [N][K] input (one image's features),
/// so packing is a small transpose of NR rows into the [K][NR] panel. With <paramref name="vector"/>
/// (AVX-512) whole 16 x 16 blocks go through <see cref="Transpose16"/>, as a scalar copy would take one
/// strided store per float (a 32-image panel of Keras MNIST's fc1 is 173,000 of them); the edges, and
/// every float without it, take the scalar copy. Both move the same floats: the panel is the same.
/// </summary>
internal readonly unsafe struct RowPacker(float* input, int k, bool vector) : IPanelPacker
{
    private const int Block = 16;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(int j0, int count, int k0, int depth, float* panel, int nr)
    {
        // Whole 16 x 16 blocks: images [0, rows) by depth [0, cols); the scalar copy does the rest.
        int cols = vector ? depth / Block * Block : 0, rows = cols > 0 ? count / Block * Block : 0;
        for (int jj = 0; jj < rows; jj += Block)
            for (int kk = 0; kk < cols; kk += Block)
                Transpose16.Store(input + (nint)(j0 + jj) * k + k0 + kk, k, panel + (nint)kk * nr + jj, nr, Vector512<float>.AllBitsSet);

        for (int jj = 0; jj < count; jj++)
        {
            float* src = input + (nint)(j0 + jj) * k + k0;
            float* dst = panel + jj;
            for (int kk = jj < rows ? cols : 0; kk < depth; kk++)
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
