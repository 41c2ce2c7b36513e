using CnnService.Engine.Runtime;

namespace CnnService.Engine.Tests.Runtime;

/// <summary>How finely a layer call splits across threads (<see cref="Parallelism.Chunks"/>).</summary>
public class ParallelismTests
{
    [Fact]
    public void A_layer_of_a_few_microseconds_takes_both_threads()
    {
        // LeNet-5's second convolution at batch 1: 480 thousand FLOPs over 4 column panels.
        Assert.Equal(2, Parallelism.Chunks(work: 480_000, items: 4, threads: 2));
    }

    [Fact]
    public void A_squeeze_and_excitation_layer_takes_both_threads()
    {
        // EfficientNet-B0's 1152 -> 48 dense layer on one image: 110 thousand FLOPs.
        Assert.Equal(2, Parallelism.Chunks(work: 110_592, items: 48, threads: 2));
    }

    [Fact]
    public void A_call_of_a_few_thousand_flops_stays_on_the_caller()
    {
        Assert.Equal(1, Parallelism.Chunks(work: 8_000, items: 16, threads: 2));
    }

    [Fact]
    public void A_call_never_has_more_chunks_than_items_or_threads()
    {
        Assert.Equal((1, 2, 2), (Parallelism.Chunks(1L << 30, items: 1, threads: 2), Parallelism.Chunks(1L << 30, items: 8, threads: 2),
            Parallelism.Chunks(1L << 30, items: 2, threads: 8)));
    }

    [Fact]
    public void One_thread_is_one_chunk()
    {
        Assert.Equal(1, Parallelism.Chunks(1L << 30, items: 100, threads: 1));
    }
}
