using CnnService.Engine.Kernels;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Kernels;

/// <summary>Winograd's F(4x4, 3x3): the reference transforms compute the 3x3 correlation, and the AVX2 runs of eight tiles
/// give the reference's bits, at the edges too.</summary>
public unsafe class WinogradTests
{
    [Fact]
    public void The_transformed_product_of_a_tile_and_a_kernel_is_their_correlation()
    {
        float[] g = TestModels.Random(9, seed: 1), d = TestModels.Random(36, seed: 2);
        float[] u = Winograd.TransformWeights(g, 1, 1); // [36][one panel][C = 1][MR]
        float[] v = new float[36], y = new float[16];
        fixed (float* dp = d, vp = v, yp = y)
        {
            Winograd.InputTile(dp, 6, vp);
            float* m = stackalloc float[36];
            for (int xi = 0; xi < 36; xi++) m[xi] = u[xi * 8] * v[xi];
            Winograd.OutputTile(m, bias: 0.25f, relu: false, yp);
        }

        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 4; j++)
            {
                double sum = 0.25;
                for (int a = 0; a < 3; a++)
                    for (int b = 0; b < 3; b++) sum += (double)g[a * 3 + b] * d[(i + a) * 6 + j + b];
                Assert.True(Math.Abs(sum - y[i * 4 + j]) <= 1e-5 * Math.Max(1, Math.Abs(sum)), $"y[{i},{j}] = {y[i * 4 + j]}, expected {sum}");
            }
        }
    }

    [Theory]
    [InlineData(0, 8)]    // eight whole tiles
    [InlineData(3, 5)]    // five tiles whose last reads past the row: zeros there
    [InlineData(8, 1)]    // one tile at the right edge, half outside
    public void Eight_tiles_in_lanes_get_the_reference_input_transform(int tx0, int count)
    {
        if (!Winograd256.IsSupported) return;   // an AVX2 kernel
        const int width = 34, stride = 40;
        float[] plane = TestModels.Random(6 * stride, seed: 3);

        float[] v = InputRun(plane, stride, 4 * tx0, width, count, paired: false);

        for (int e = 0; e < 8; e++)
        {
            float[] expected = ReferenceInput(plane, stride, row: 0, 4 * (tx0 + e), width);
            for (int xi = 0; xi < 36; xi++) Assert.Equal(e < count ? expected[xi] : -7f, v[xi * PointStride + e]);
        }
    }

    [Fact]
    public void Two_tile_rows_four_tiles_wide_fill_the_eight_lanes()
    {
        if (!Winograd256.IsSupported) return;
        const int width = 15, stride = 19; // a padded 13x13 map's rows: 4 tiles, the last reading past the row
        float[] plane = TestModels.Random(10 * stride, seed: 5);

        float[] v = InputRun(plane, stride, 0, width, 8, paired: true);

        for (int e = 0; e < 8; e++)
        {
            float[] expected = ReferenceInput(plane, stride, row: e < 4 ? 0 : 4, 4 * (e % 4), width);
            for (int xi = 0; xi < 36; xi++) Assert.Equal(expected[xi], v[xi * PointStride + e]);
        }
    }

    [Theory]
    [InlineData(4, 32, false)]   // eight whole tiles
    [InlineData(3, 13, true)]    // three rows, thirteen columns: the map's bottom and right edges cut the tiles
    [InlineData(1, 4, true)]     // one tile's first row
    public void Eight_tiles_in_lanes_get_the_reference_output_transform_and_store_only_their_positions(int rows, int columns, bool relu)
    {
        if (!Winograd256.IsSupported) return;
        float[] m = TestModels.Random(36 * PointStride + 8, seed: 4);

        float[] output = OutputRun(m, relu, rows, Math.Min(columns, 16), second: 16, rows, columns - 16);

        for (int e = 0; e < 8; e++)
        {
            float[] y = ReferenceOutput(m, e, relu);
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                {
                    bool stored = i < rows && 4 * e + j < columns;
                    Assert.Equal(stored ? y[i * 4 + j] : -7f, output[i * RowStride + 4 * e + j]);
                }
        }
    }

    [Theory]
    [InlineData(4, 16)]    // two whole tile rows of a 16x16 map
    [InlineData(1, 13)]    // a 13x13 map's last pair: the lower tile row has one output row, each row 13 columns
    public void Two_tile_rows_of_eight_lanes_go_back_to_their_own_rows(int secondRows, int columns)
    {
        if (!Winograd256.IsSupported) return;
        float[] m = TestModels.Random(36 * PointStride + 8, seed: 6);

        float[] output = OutputRun(m, relu: true, 4, columns, second: 4 * RowStride, secondRows, columns);

        for (int e = 0; e < 8; e++)
        {
            float[] y = ReferenceOutput(m, e, relu: true);
            int top = e < 4 ? 0 : 4, left = 4 * (e % 4);
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                {
                    bool stored = (e < 4 || i < secondRows) && left + j < columns;
                    Assert.Equal(stored ? y[i * 4 + j] : -7f, output[(top + i) * RowStride + left + j]);
                }
        }
    }

    private const int PointStride = 11, RowStride = 37;

    /// <summary>Winograd256.InputRun over rows <paramref name="stride"/> apart, into points PointStride apart (-7 where nothing was stored).</summary>
    private static float[] InputRun(float[] plane, int stride, int x0, int width, int count, bool paired)
    {
        float[] v = new float[36 * PointStride + 8], scratch = new float[Winograd256.ScratchFloats];
        Array.Fill(v, -7f);
        fixed (float* p = plane, vp = v, s = scratch)
        {
            float** rows = stackalloc float*[10];
            for (int j = 0; j < (paired ? 10 : 6); j++) rows[j] = p + j * stride;
            Winograd256.InputRun(rows, x0, width, count, paired, vp, PointStride, s);
        }

        return v;
    }

    /// <summary>Winograd.InputTile of the 6 x 6 tile at (<paramref name="row"/>, <paramref name="x"/>), zeros past <paramref name="width"/>.</summary>
    private static float[] ReferenceInput(float[] plane, int stride, int row, int x, int width)
    {
        float[] tile = new float[36], expected = new float[36];
        for (int r = 0; r < 6; r++)
            for (int j = 0; j < 6; j++) tile[r * 6 + j] = x + j < width ? plane[(row + r) * stride + x + j] : 0;
        fixed (float* t = tile, ep = expected) Winograd.InputTile(t, 6, ep);
        return expected;
    }

    /// <summary>Winograd256.OutputRun with bias -0.5 into eight rows RowStride apart, -7 where nothing was stored.</summary>
    private static float[] OutputRun(float[] m, bool relu, int rows, int columns, int second, int secondRows, int secondColumns)
    {
        float[] output = new float[8 * RowStride], scratch = new float[Winograd256.ScratchFloats];
        Array.Fill(output, -7f);
        fixed (float* mp = m, o = output, s = scratch)
        {
            Winograd256.OutputRun(mp, PointStride, -0.5f, relu, o, RowStride, rows, columns, o + second, secondRows, secondColumns, s);
        }

        return output;
    }

    /// <summary>Winograd.OutputTile of tile e's 36 points, bias -0.5.</summary>
    private static float[] ReferenceOutput(float[] m, int e, bool relu)
    {
        float[] tile = new float[36], y = new float[16];
        for (int xi = 0; xi < 36; xi++) tile[xi] = m[xi * PointStride + e];
        fixed (float* t = tile, yp = y) Winograd.OutputTile(t, -0.5f, relu, yp);
        return y;
    }
}
