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
        const int rows = 6, width = 34, stride = 40, pointStride = 11;
        float[] plane = TestModels.Random(rows * stride, seed: 3);
        float[] v = new float[36 * pointStride + 8], scratch = new float[Winograd256.ScratchFloats];
        Array.Fill(v, -7f);
        fixed (float* p = plane, vp = v, s = scratch)
        {
            Winograd256.InputRun(p, p + stride, p + 2 * stride, p + 3 * stride, p + 4 * stride, p + 5 * stride, 4 * tx0, width, count, vp, pointStride, s);
        }

        float[] tile = new float[36], expected = new float[36];
        for (int e = 0; e < 8; e++)
        {
            for (int r = 0; r < 6; r++)
                for (int x = 0; x < 6; x++)
                {
                    int at = 4 * (tx0 + e) + x;
                    tile[r * 6 + x] = at < width ? plane[r * stride + at] : 0;
                }

            fixed (float* t = tile, ep = expected) Winograd.InputTile(t, 6, ep);
            for (int xi = 0; xi < 36; xi++) Assert.Equal(e < count ? expected[xi] : -7f, v[xi * pointStride + e]);
        }
    }

    [Theory]
    [InlineData(4, 32, false)]   // eight whole tiles
    [InlineData(3, 13, true)]    // three rows, thirteen columns: the map's bottom and right edges cut the tiles
    [InlineData(1, 4, true)]     // one tile's first row
    public void Eight_tiles_in_lanes_get_the_reference_output_transform_and_store_only_their_positions(int rows, int columns, bool relu)
    {
        if (!Winograd256.IsSupported) return;
        const int pointStride = 9, rowStride = 37;
        float[] m = TestModels.Random(36 * pointStride + 8, seed: 4), output = new float[4 * rowStride], scratch = new float[Winograd256.ScratchFloats];
        Array.Fill(output, -7f);
        fixed (float* mp = m, o = output, s = scratch)
        {
            Winograd256.OutputRun(mp, pointStride, -0.5f, relu, o, rowStride, rows, columns, s);
        }

        float[] tile = new float[36], y = new float[16];
        for (int e = 0; e < 8; e++)
        {
            for (int xi = 0; xi < 36; xi++) tile[xi] = m[xi * pointStride + e];
            fixed (float* t = tile, yp = y) Winograd.OutputTile(t, -0.5f, relu, yp);
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                {
                    bool stored = i < rows && 4 * e + j < columns;
                    Assert.Equal(stored ? y[i * 4 + j] : -7f, output[i * rowStride + 4 * e + j]);
                }
        }
    }
}
