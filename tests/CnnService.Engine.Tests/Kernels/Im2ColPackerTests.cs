using CnnService.Engine.Kernels;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Kernels;

/// <summary>The im2col packer's panels against the definition, B[(c, ki, kj), (n, y, x)] = input[n, c, y*s + ki, x*s + kj].</summary>
public unsafe class Im2ColPackerTests
{
    /// <summary>
    /// Output rows shorter and longer than one vector (the packer copies a run as one or two 16-float vectors at NR = 32,
    /// one to three 8-float ones at NR = 24),
    /// rows that a panel cuts into several runs, panels that cross images, and a stride of 2 (the exact, strided walk).
    /// </summary>
    [Theory]
    [InlineData(32, 1, 10, 5)]   // LeNet-5's second convolution: 10-wide rows, three or four runs a panel
    [InlineData(32, 1, 16, 3)]
    [InlineData(32, 1, 17, 3)]   // a run just over one vector
    [InlineData(32, 1, 20, 3)]
    [InlineData(32, 1, 28, 5)]   // one or two runs a panel
    [InlineData(32, 1, 33, 3)]   // a run longer than the panel
    [InlineData(32, 2, 12, 3)]
    [InlineData(24, 1, 10, 5)]   // the AVX2 panel: rows of two 8-float vectors
    [InlineData(24, 1, 8, 3)]    // rows of one
    [InlineData(24, 1, 3, 3)]
    [InlineData(24, 1, 17, 3)]   // rows of three, the third holding one float
    [InlineData(24, 1, 20, 3)]
    [InlineData(24, 1, 30, 3)]   // a run longer than the panel
    [InlineData(24, 2, 12, 3)]
    public void Every_panel_holds_the_window_values_of_its_columns(int nr, int stride, int ow, int kernel)
    {
        const int n = 3, c = 2, oh = 4;
        int w = (ow - 1) * stride + kernel, h = (oh - 1) * stride + kernel, k = c * kernel * kernel, cols = n * oh * ow;
        float[] input = TestModels.Random(n * c * h * w, seed: ow);
        var panel = new float[(k + 1) * nr];   // one slack row: a whole-vector copy may spill past the last

        fixed (float* x = input, b = panel)
        {
            var packer = new Im2ColPacker(x, n, c, h, w, kernel, kernel, stride, stride, oh, ow);
            for (int j0 = 0; j0 < cols; j0 += nr)
            {
                int count = Math.Min(nr, cols - j0);
                packer.Pack(j0, count, 0, k, b, nr);
                for (int kk = 0; kk < k; kk++)
                    for (int jj = 0; jj < nr; jj++)
                        Assert.Equal(jj < count ? Expected(input, j0 + jj, kk) : 0f, panel[kk * nr + jj]);
            }
        }

        float Expected(float[] x, int j, int kk)
        {
            int image = j / (oh * ow), y = j % (oh * ow) / ow, xo = j % ow;
            int ci = kk / (kernel * kernel), ki = kk / kernel % kernel, kj = kk % kernel;
            return x[((image * c + ci) * h + y * stride + ki) * w + xo * stride + kj];
        }
    }
}
