using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Kernels;

/// <summary>The AVX2 micro-kernel's narrow tiles (a GEMM's last column panel) against its whole 8 x 24 tile, and its steps three
/// taps at a time against one at a time.</summary>
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

    public static IEnumerable<object[]> Depths() =>
        from k in new[] { 1, 2, 3, 9, 10, 11 } from rows in new[] { 1, 3, 4, 6, 8 } select new object[] { k, rows };

    /// <summary>
    /// Rows taken three at a time from one address (a 3x3 kernel's taps along an input row) give the bits of rows taken one at a
    /// time through the offset table, whatever the depth's remainder after the runs of three (the last one or two steps).
    /// </summary>
    [SimdTheory(SimdLevel.Vector256)]
    [MemberData(nameof(Depths))]
    public void Three_taps_from_one_address_give_the_bits_of_one_tap_at_a_time(int k, int rows)
    {
        const int mr = 8, wp = 31, ldc = 24;
        float[] a = TestModels.Random(k * mr, seed: 1), input = TestModels.Random(wp * (k + 2) + 32, seed: 2), bias = TestModels.Random(mr, seed: 3);
        // Taps of a 3x3 kernel in order: (row, column) = (k / 3, k % 3), one input row per kernel row.
        nint[] offsets = Enumerable.Range(0, k).Select(kk => (nint)(kk / 3 * wp + kk % 3)).ToArray();
        float[] one = new float[mr * ldc], three = new float[mr * ldc];
        fixed (float* pa = a, pin = input, pbias = bias, pone = one, pthree = three)
        fixed (nint* po = offsets)
        {
            MicroKernel256.Run(k, pa, new OffsetRows(pin + 5, po), pbias, pone, ldc, rows, accumulate: false, relu: false);
            MicroKernel256.Run(k, pa, new TapRows3(pin + 5, po), pbias, pthree, ldc, rows, accumulate: false, relu: false);
        }

        Assert.Equal(one, three);
        Assert.Contains(one.AsSpan(0, ldc).ToArray(), v => v != 0);
    }
}
