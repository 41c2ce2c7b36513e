using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Layers;

/// <summary>
/// A pooling layer gives the same bits at every SIMD level and thread count: its kernels reduce in one
/// order everywhere, so a model's output does not depend on the CPU it runs on or how the batch was split.
/// </summary>
public class PoolLevelsTests
{
    // C, H, W, kernel, stride, padding, ceil_mode: the torchvision nets' pools
    public static readonly object[][] Pools =
    [
        [5, 111, 111, 3, 2, 0, true],   // SqueezeNet 1.1's first pool
        [4, 112, 112, 3, 2, 1, false],  // ResNet's stem pool
        [7, 28, 28, 3, 1, 1, true],     // GoogLeNet's inception pool branch
        [6, 27, 27, 3, 2, 0, true],     // SqueezeNet's last pool, GoogLeNet's maxpool3 shape
        [9, 14, 14, 2, 2, 0, true],     // GoogLeNet's maxpool4: the 2x2 fast path, four outputs a step
        [4, 26, 26, 2, 2, 0, false],    // Keras MNIST's pool: the 2x2 fast path, eight a step at Vector512 and four at Vector256, the last overlapping
        [3, 13, 13, 2, 2, 0, true],     // 2x2 ceil_mode on an odd plane: the window kernel
        [8, 56, 56, 2, 2, 0, false],    // DenseNet's transition pool
    ];

    public static IEnumerable<object[]> PoolsBothWays() =>
        from p in Pools from mode in new[] { "max", "avg-exclude", "avg-include" } select p.Append(mode).ToArray();

    [Theory]
    [MemberData(nameof(PoolsBothWays))]
    public void Every_level_and_thread_count_gives_the_scalar_bits(int c, int h, int w, int kernel, int stride, int padding, bool ceilMode, string mode)
    {
        bool max = mode == "max";
        string json = $$"""{ "type": "{{(max ? "maxpool2d" : "avgpool2d")}}", "kernel": {{kernel}}, "stride": {{stride}}, "padding": {{padding}}, "ceil_mode": {{(ceilMode ? "true" : "false")}}{{(max ? "" : $", \"count_include_pad\": {(mode == "avg-include" ? "true" : "false")}")}} }""";
        var shape = new TensorShape(c, h, w);
        const int batch = 3;
        float[] x = TestModels.Random(batch * shape.Size, seed: 60, scale: 5f);
        float[] expected = Run(json, shape, x, batch, SimdLevel.Scalar, threads: 1);

        foreach (SimdLevel level in TestModels.SimdLevels().Select(l => (SimdLevel)l[0]))
        foreach (int threads in new[] { 1, 2 })
        {
            float[] actual = Run(json, shape, x, batch, level, threads);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                    $"{level}, {threads} threads, output {i}: {actual[i]} against the scalar {expected[i]}");
        }
    }

    private static float[] Run(string json, TensorShape shape, float[] x, int batch, SimdLevel level, int threads)
    {
        Model model = TestModels.Build(TestModels.Spec(shape, LayerJson.Parse(json)), level, out _, threads);
        return TestModels.Forward(model, x, batch);
    }
}
