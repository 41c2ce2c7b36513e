using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Layers;

public class PoolingTests
{
    // N, C, H, W, kernel, stride (0 = default: the kernel), padding
    public static readonly object[][] Cases =
    [
        [1, 32, 26, 26, 2, 0, 0],     // Keras MNIST: 2x2 on 26x26, 8-wide fast path with an overlapping last step
        [17, 3, 10, 10, 2, 2, 0],     // LeNet-5's second pool: narrower than 8 outputs
        [2, 3, 13, 13, 3, 2, 1],      // AlexNet's overlapping 3x3 stride-2 pooling, with padding
        [17, 1, 9, 7, 2, 0, 0],       // odd sizes: the last row and column are dropped (floor)
        [3, 2, 40, 37, 2, 0, 0],      // 2x2 fast path on a wide odd row
        [1, 4, 11, 11, 3, 1, 1],      // stride 1
        [2, 3, 13, 12, 2, 0, 0],      // odd height (plane by plane), 6 outputs a row: the 4-wide step
    ];

    public static IEnumerable<object[]> CasesAtEveryLevel() =>
        from level in TestModels.SimdLevels() from c in Cases from max in new[] { true, false } select c.Append(max).Append(level[0]).ToArray();

    [Theory]
    [MemberData(nameof(CasesAtEveryLevel))]
    public void Forward_matches_the_window_loop(int n, int c, int h, int w, int kernel, int stride, int padding, bool max, SimdLevel simd)
    {
        var layer = new LayerSpec
        {
            Type = max ? "maxpool2d" : "avgpool2d", Kernel = Pair.Square(kernel),
            Stride = stride == 0 ? null : Pair.Square(stride), Padding = Padding.Of(padding, padding),
        };
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(c, h, w), layer), simd, out _);
        float[] x = TestModels.Random(n * c * h * w, seed: 5);
        int s = stride == 0 ? kernel : stride;
        TensorShape o = model.OutputShape;

        Assert.Equal((h + 2 * padding - kernel) / s + 1, o.H);
        TestModels.AssertClose(Reference.Pool(x, n, c, h, w, kernel, kernel, s, s, padding, padding, o.H, o.W, max), TestModels.Forward(model, x, n));
    }

    [Fact]
    public void Average_counts_padding_out_of_the_mean()
    {
        var layer = new LayerSpec { Type = "avgpool2d", Kernel = Pair.Square(2), Stride = Pair.Square(1), Padding = Padding.Of(1, 1) };
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(1, 1, 1), layer), Simd.Best, out _);

        // A single pixel of 4: every window sees it alone, so every average is 4, not 1.
        Assert.Equal([4f, 4f, 4f, 4f], TestModels.Forward(model, [4f], 1));
    }

    [Fact]
    public void Padding_over_half_the_kernel_is_refused()
    {
        var layer = new LayerSpec { Type = "maxpool2d", Name = "pool1", Kernel = Pair.Square(2), Padding = Padding.Of(2, 2) };

        var e = Assert.Throws<ModelFormatException>(() => TestModels.Build(TestModels.Spec(new TensorShape(1, 8, 8), layer), Simd.Best, out _));
        Assert.Contains("pool1", e.Message);
    }

    [Theory]
    [MemberData(nameof(TestModels.SimdLevels), MemberType = typeof(TestModels))]
    public void Global_average_pool_takes_each_channels_mean(SimdLevel simd)
    {
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(5, 7, 3), new LayerSpec { Type = "global_avgpool" }), simd, out _);
        float[] x = TestModels.Random(17 * 5 * 21, seed: 6);

        Assert.Equal(new TensorShape(5, 1, 1), model.OutputShape);
        TestModels.AssertClose(Reference.GlobalAvgPool(x, 17, 5, 21), TestModels.Forward(model, x, 17));
    }
}
