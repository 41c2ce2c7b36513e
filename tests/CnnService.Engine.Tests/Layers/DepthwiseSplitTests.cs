using CnnService.Engine.Format;
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
