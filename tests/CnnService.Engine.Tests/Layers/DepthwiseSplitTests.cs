using CnnService.Engine.Format;
using CnnService.Engine.Kernels;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Layers;

/// <summary>How a depthwise convolution splits one call across threads: by its cost, not its bare FLOP count.</summary>
public unsafe class DepthwiseSplitTests
{
    [Fact]
    public void A_7x7_depthwise_layer_of_MobileNet_takes_both_threads_at_batch_1()
    {
        // 960 planes of 7x7, 3x3: 0.85 MFLOPs, under two chunks' worth at face value, but a tenth of a millisecond on one core.
        Assert.Equal(2, ChunksAtBatch1(TestGraphs.Graph(new TensorShape(960, 7, 7), TestGraphs.Depthwise("dw", 960, 3, 1, 1)), threads: 2));
    }

    [Fact]
    public void A_tiny_depthwise_layer_stays_on_one_thread()
    {
        // 2 planes of 5x5: a few nanoseconds of work, less than handing half of it to a helper costs.
        Assert.Equal(1, ChunksAtBatch1(TestGraphs.Graph(new TensorShape(2, 5, 5), TestGraphs.Depthwise("dw", 2, 3, 1, 1)), threads: 2));
    }

    [Theory]
    [InlineData(144, 28, 3, 2, 1, 2)]   // MobileNet's 144-channel stride-2 layer: 9 groups, the fifth split by its rows
    [InlineData(144, 28, 5, 2, 3, 2)]   // EfficientNet's 5x5, three images: a chunk starts at a group's second half
    [InlineData(240, 14, 3, 2, 1, 3)]   // 15 groups on three threads
    [InlineData(240, 28, 3, 2, 1, 2)]   // EfficientNet's 240-channel stride-2 layer: 14 output rows of 15 groups
    public void A_depthwise_layer_of_an_odd_count_of_groups_splits_a_group_by_its_rows_and_computes_the_bits_of_one_thread(
        int channels, int size, int kernel, int stride, int batch, int threads)
    {
        int padding = kernel / 2, outSize = (size + 2 * padding - kernel) / stride + 1;
        var g = new DepthwiseGeometry(size, size, kernel, kernel, stride, stride, padding, padding, outSize, outSize);
        ModelSpec spec = TestGraphs.Graph(new TensorShape(channels, size, size), TestGraphs.Depthwise("dw", channels, kernel, stride, padding), TestGraphs.Clip("six", 0, 6));
        Model split = TestModels.Build(spec, Simd.Best, out _, threads);
        Model alone = TestModels.Build(spec, Simd.Best, out _, threads: 1);
        float[] x = TestModels.Random(batch * channels * size * size, seed: 13, scale: 8);

        float[] y = TestModels.Forward(split, x, batch);

        // Groups of 16 with AVX-512 (9 and 15: odd); with AVX2, of 8 (18 and 30), split the same way.
        Assert.Equal(Simd.Best != SimdLevel.Scalar, DepthwiseConv.IsBlocked(Simd.Best, g, channels, 1));
        Assert.Equal(TestModels.Forward(alone, x, batch), y);
    }

    [SimdTheory(SimdLevel.Vector256)]
    [InlineData(96, 112, 1, 1, 2)]   // MobileNet V2's and EfficientNet-B0's 96 x 112x112 layer: two bands a group
    [InlineData(16, 112, 2, 2, 2)]   // MobileNet V3 Small's 16 channels, two images on two threads
    [InlineData(8, 224, 1, 2, 7)]    // a band of 17 output rows at most: seven of them, the last of 10
    public void With_avx2_a_strided_plane_too_large_for_one_blocked_buffer_runs_blocked_in_bands_with_the_bits_of_the_plane_path(
        int channels, int size, int batch, int threads, int bands)
    {
        const int kernel = 3, stride = 2, padding = 1;
        int outSize = size / stride;
        var g = new DepthwiseGeometry(size, size, kernel, kernel, stride, stride, padding, padding, outSize, outSize);
        ModelSpec spec = TestGraphs.Graph(new TensorShape(channels, size, size), TestGraphs.Depthwise("dw", channels, kernel, stride, padding));
        Model model = TestModels.Build(spec, SimdLevel.Vector256, out var tensors, threads);
        float[] x = TestModels.Random(batch * channels * size * size, seed: 17, scale: 4);

        float[] y = TestModels.Forward(model, x, batch);

        var dw = Assert.IsType<DepthwiseConv2D>(model.Layers[0]);
        Assert.False(DepthwiseConv.IsBlocked(SimdLevel.Vector256, g, channels, 1));   // the whole plane does not fit
        Assert.True(dw.RunsBlocked);
        Assert.Equal(bands, dw.BlockedBands);
        float[] weights = tensors["dw.weight"], bias = tensors.TryGetValue("dw.bias", out float[]? b) ? b : new float[channels];
        var expected = new float[y.Length];
        var scratch = new float[DepthwiseConv.ScratchFloats(g)];
        nint inPlane = size * size, outPlane = outSize * outSize;
        fixed (float* input = x, w = weights, bs = bias, output = expected, sc = scratch)
        {
            for (int p = 0; p < batch * channels; p++)
                DepthwiseConv.PlaneBanded(SimdLevel.Vector256, input + p * inPlane, w + p % channels * 9, bs + p % channels, 1, output + p * outPlane,
                    FusedActivation.None, FusedActivation.None, g, sc);
        }

        Assert.Equal(expected, y);
    }

    private static int ChunksAtBatch1(ModelSpec spec, int threads)
    {
        Model model = TestModels.Build(spec, Simd.Best, out _);
        var dw = Assert.IsType<DepthwiseConv2D>(model.Layers[0]);
        float[] input = new float[dw.InputShape.Size], output = new float[dw.OutputShape.Size];
        var job = new ParallelJob();
        fixed (float* x = input, y = output)
        {
            job.Input = x;
            job.Output = y;
            job.Batch = 1;
            dw.Forward(job, threads);
        }

        return job.Chunks;
    }
}
