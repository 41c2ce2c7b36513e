using CnnService.Engine.Kernels;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Kernels;

/// <summary>The separable pooling kernel against its plain twin, window by window.</summary>
public unsafe class PoolWindowTests
{
    [Theory]
    [InlineData(111, 111, 3, 3, 2, 2, 0, 0, 0, 0, true)]    // SqueezeNet's ceil_mode pool: the last window runs past the edge
    [InlineData(112, 112, 3, 3, 2, 2, 1, 1, 1, 1, false)]   // ResNet's stem pool
    [InlineData(13, 17, 3, 2, 1, 2, 1, 0, 1, 1, false)]     // asymmetric everything, odd sizes
    [InlineData(7, 7, 7, 7, 1, 1, 0, 0, 0, 0, false)]       // one window covering the plane
    [InlineData(9, 40, 2, 5, 2, 3, 0, 2, 1, 2, true)]       // wider than a vector, ragged tail
    public void Separable_plane_equals_the_plain_loop(int h, int w, int kh, int kw, int sh, int sw, int top, int left, int bottom, int right, bool ceil)
    {
        int oh = Size(h, kh, sh, top, bottom, ceil), ow = Size(w, kw, sw, left, right, ceil);
        float[] x = TestModels.Random(h * w, seed: 3);
        foreach (bool max in new[] { true, false })
        {
            foreach (bool includePad in new[] { true, false })
            {
                var fast = new float[oh * ow];
                var plain = new float[oh * ow];
                fixed (float* src = x, a = fast, b = plain)
                {
                    PoolWindow.Plane(src, a, h, w, kh, kw, sh, sw, top, left, bottom, right, oh, ow, max, includePad);
                    PoolWindow.PlaneReference(src, b, h, w, kh, kw, sh, sw, top, left, bottom, right, oh, ow, max, includePad);
                }

                // Max picks the same element; a mean may sum in another order.
                for (int i = 0; i < fast.Length; i++)
                    Assert.True(max ? fast[i] == plain[i] : Math.Abs(fast[i] - plain[i]) <= 1e-6f, $"max={max} includePad={includePad} at {i}: {fast[i]} vs {plain[i]}");
            }
        }
    }

    private static int Size(int size, int k, int s, int before, int after, bool ceil)
    {
        int span = size + before + after - k;
        int n = (ceil ? (span + s - 1) / s : span / s) + 1;
        return ceil && (n - 1) * s >= size + before ? n - 1 : n;
    }
}
