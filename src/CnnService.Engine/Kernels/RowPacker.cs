using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Kernels;

/// <summary>
/// B for a dense layer: column j is row j of the row-major [N][K] input (one image's features),
/// so packing is a small transpose of NR rows into the [K][NR] panel. At Vector512 whole 16 x 16 blocks go
/// through <see cref="Transpose16"/>, at Vector256 8 x 8 ones through <see cref="Transpose8"/>, as a scalar copy
/// would take one strided store per float (a 32-image panel of Keras MNIST's fc1 is 173,000 of them; at Vector256
/// they were 14 % of the layer); the edges, and every float at the scalar level, take the scalar copy. All move the
/// same floats: the panel is the same.
/// </summary>
internal readonly unsafe struct RowPacker(float* input, int k, SimdLevel simd) : IPanelPacker
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(int j0, int count, int k0, int depth, float* panel, int nr)
    {
        // Whole blocks: images [0, rows) by depth [0, cols); the scalar copy does the rest.
        int block = simd switch
        {
            SimdLevel.Vector512 when Vector512.IsHardwareAccelerated => 16,
            SimdLevel.Vector256 when Transpose8.IsSupported => 8,
            _ => 0,
        };
        int cols = block > 0 ? depth / block * block : 0, rows = cols > 0 ? count / block * block : 0;
        for (int jj = 0; jj < rows; jj += block)
        {
            for (int kk = 0; kk < cols; kk += block)
            {
                float* from = input + (nint)(j0 + jj) * k + k0 + kk, to = panel + (nint)kk * nr + jj;
                if (block == 16) Transpose16.Store(from, k, to, nr, Vector512<float>.AllBitsSet);
                else Transpose8.Store(from, k, to, nr);
            }
        }

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
