using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Kernels;

/// <summary>The AVX2 micro-kernel's narrow tiles (a GEMM's last column panel) against its whole 8 x 24 tile.</summary>
public unsafe class MicroKernel256Tests
{
    public static IEnumerable<object[]> Tiles() =>
        from rows in Enumerable.Range(1, 8) from accumulate in new[] { false, true } select new object[] { rows, accumulate };

    /// <summary>
    /// For every count of columns 1-24: the same bits as the whole tile in the columns asked for (the same products in the
    /// same order), bias or an earlier block's sum added, ReLU applied, and nothing stored past the vectors that hold them.
    /// </summary>
    [SimdTheory(SimdLevel.Vector256)]
    [MemberData(nameof(Tiles))]
    public void A_narrow_tile_gives_the_whole_tiles_bits_in_its_columns_and_stores_nothing_past_them(int rows, bool accumulate)
    {
        const int k = 37, mr = 8, nr = 24, ldc = 40;
        float[] a = TestModels.Random(k * mr, seed: 1), b = TestModels.Random(k * nr, seed: 2), bias = TestModels.Random(mr, seed: 3);
        float[] start = TestModels.Random(mr * ldc, seed: 4);
        float[] whole = Run(nr);

        for (int columns = 1; columns <= nr; columns++)
        {
            float[] narrow = Run(columns);
            int stored = (columns + 7) / 8 * 8;
            for (int r = 0; r < mr; r++)
            {
                for (int j = 0; j < ldc; j++)
                {
                    float expected = r < rows && j < stored ? whole[r * ldc + j] : start[r * ldc + j];
                    Assert.True(expected.Equals(narrow[r * ldc + j]), $"{columns} columns, row {r}, column {j}: {narrow[r * ldc + j]:R}, expected {expected:R}");
                }
            }
        }

        float[] Run(int columns)
        {
            float[] c = (float[])start.Clone();
            fixed (float* pa = a, pb = b, pbias = bias, pc = c)
            {
                MicroKernel256.Run(k, pa, pb, pbias, pc, ldc, rows, columns, accumulate, relu: true);
            }

            return c;
        }
    }
}
