using CnnService.Engine.Kernels;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Training;

/// <summary>
/// The backward passes are adjoints of the forward copies: for any x and g,
/// &lt;backward(g), x&gt; equals &lt;g, forward(x)&gt;. That is exactly "routes each gradient to where its value came from".
/// </summary>
public unsafe class Im2ColTests
{
    [Theory]
    [InlineData(2, 9, 8, 3, 2, 2, 2)]     // stride 2, non-square kernel
    [InlineData(3, 7, 11, 2, 3, 2, 1)]    // strides differ
    [InlineData(1, 6, 40, 1, 3, 1, 2)]
    [InlineData(2, 5, 37, 3, 3, 1, 1)]    // stride 1: rows wide enough for the vector add
    public void Col2Im_is_the_adjoint_of_Im2Col(int c, int hp, int wp, int kh, int kw, int sh, int sw)
    {
        int oh = (hp - kh) / sh + 1, ow = (wp - kw) / sw + 1, k = c * kh * kw, p = oh * ow;
        float[] x = TestModels.Random(c * hp * wp, seed: 1), g = TestModels.Random(k * p, seed: 2);
        var col = new float[k * p];
        var image = new float[c * hp * wp];
        fixed (float* px = x, pg = g, pcol = col, pimage = image)
        {
            Im2Col.Forward(px, c, hp, wp, kh, kw, sh, sw, oh, ow, pcol);
            Im2Col.Col2Im(pg, c, hp, wp, kh, kw, sh, sw, oh, ow, pimage);
        }

        Assert.Equal(Dot(g, col), Dot(image, x), 1e-6 * g.Length);
    }

    [Fact]
    public void Col2Im_adds_onto_the_image()
    {
        // Two 5x4 planes, a 3x1 kernel: 3x4 outputs, so the columns are (2 * 3 * 1) rows of 3 * 4. (They were 2 * 3 * 4
        // floats, a third of that: Col2Im read past them into whatever the heap held, and failed when that was a NaN.)
        float[] g = TestModels.Random(2 * 3 * 1 * (3 * 4), seed: 3), image = TestModels.Random(2 * 5 * 4, seed: 4);
        var fromZero = new float[image.Length];
        float[] onto = (float[])image.Clone();
        fixed (float* pg = g, pz = fromZero, po = onto)
        {
            Im2Col.Col2Im(pg, 2, 5, 4, 3, 1, 1, 1, 3, 4, pz);
            Im2Col.Col2Im(pg, 2, 5, 4, 3, 1, 1, 1, 3, 4, po);
        }

        TestModels.AssertClose(image.Select((v, i) => v + fromZero[i]).ToArray(), onto, 1e-6f);
    }

    [Theory]
    [InlineData(false, 1, 2, 2, 0)]
    [InlineData(false, 3, 0, 1, 2)]
    [InlineData(true, 1, 2, 2, 1)]
    [InlineData(true, 3, 3, 1, 3)]      // padding up to n - 1, the most reflect allows
    public void PadGradient_is_the_adjoint_of_Pad(bool reflect, int top, int bottom, int left, int right)
    {
        const int planes = 2, h = 5, w = 4;
        int hp = h + top + bottom, wp = w + left + right;
        float[] x = TestModels.Random(planes * h * w, seed: 5), g = TestModels.Random(planes * hp * wp, seed: 6);
        var padded = new float[g.Length];
        var dx = TestModels.Random(x.Length, seed: 7);   // overwritten, not added to
        fixed (float* px = x, pg = g, ppad = padded, pdx = dx)
        {
            Pad.Apply(px, ppad, planes, h, w, top, bottom, left, right, reflect, 0, hp);
            PadGradient.Apply(pg, pdx, planes, h, w, top, bottom, left, right, reflect);
        }

        Assert.Equal(Dot(g, padded), Dot(dx, x), 1e-6 * g.Length);
    }

    private static double Dot(float[] a, float[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (double)a[i] * b[i];
        return sum;
    }
}
