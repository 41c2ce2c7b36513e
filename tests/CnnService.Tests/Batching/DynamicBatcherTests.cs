using CnnService.Batching;
using CnnService.Engine.Runtime;
using CnnService.Tests.Support;

namespace CnnService.Tests.Batching;

public sealed class DynamicBatcherTests
{
    private static readonly Model Mnist = ModelLoader.Load(Path.Combine(Fixtures.Models, "mnist", "1"), EngineOptions.Default with { Threads = 1 });

    private static float[] Image(int seed)
    {
        var random = new Random(seed);
        var image = new float[Mnist.InputShape.Size];
        for (int i = 0; i < image.Length; i++) image[i] = random.NextSingle();
        return image;
    }

    private static float[] Alone(float[] image)
    {
        var output = new float[Mnist.OutputShape.Size];
        Mnist.Forward(image, output, 1);
        return output;
    }

    [Fact]
    public async Task Concurrent_requests_are_coalesced_into_one_forward_pass()
    {
        var sizes = new List<int>();
        var batcher = new DynamicBatcher(Mnist, new BatchingOptions { MaxBatchSize = 8, MaxDelayMilliseconds = 5000 }, size => { lock (sizes) sizes.Add(size); });
        float[][] images = Enumerable.Range(0, 8).Select(Image).ToArray();

        BatchResult[] results = await Task.WhenAll(images.Select(image => batcher.SubmitAsync(image, 1)));

        Assert.Equal([8], sizes);
        Assert.All(results, r => Assert.Equal(8, r.BatchSize));
        for (int i = 0; i < images.Length; i++)
            Assert.Equal(Alone(images[i]), results[i].Outputs, (a, b) => Math.Abs(a - b) < 1e-6f);
    }

    [Fact]
    public async Task A_batch_never_exceeds_the_largest_size()
    {
        var sizes = new List<int>();
        var batcher = new DynamicBatcher(Mnist, new BatchingOptions { MaxBatchSize = 4, MaxDelayMilliseconds = 5000 }, size => { lock (sizes) sizes.Add(size); });

        await Task.WhenAll(Enumerable.Range(0, 10).Select(i => batcher.SubmitAsync(Image(i), 1)));

        Assert.All(sizes, size => Assert.InRange(size, 1, 4));
        Assert.Equal(10, sizes.Sum());
    }

    [Fact]
    public async Task A_lone_request_runs_alone_without_waiting_when_the_delay_is_zero()
    {
        var batcher = new DynamicBatcher(Mnist, new BatchingOptions { MaxBatchSize = 32, MaxDelayMilliseconds = 0 });
        float[] image = Image(1);

        BatchResult result = await batcher.SubmitAsync(image, 1);

        Assert.Equal(1, result.BatchSize);
        Assert.Equal(Alone(image), result.Outputs);
    }

    [Fact]
    public async Task A_request_that_finds_the_version_idle_runs_on_the_callers_thread()
    {
        var sizes = new List<int>();
        var batcher = new DynamicBatcher(Mnist, new BatchingOptions { MaxBatchSize = 32, MaxDelayMilliseconds = 0 }, sizes.Add);
        float[] image = Image(1);

        Assert.True(batcher.TrySubmit(image, 1, CancellationToken.None, out Task<BatchResult> submitted));

        Assert.True(submitted.IsCompletedSuccessfully);  // done before TrySubmit returned: no hand-off to the worker
        BatchResult result = await submitted;
        Assert.Equal(Alone(image), result.Outputs);
        Assert.Equal(TimeSpan.Zero, result.Queued);
        Assert.Equal([1], sizes);
    }

    [Fact]
    public async Task A_request_that_finds_others_queued_joins_them_instead_of_overtaking_them()
    {
        var held = new HeldBatcher(new BatchingOptions { MaxBatchSize = 8, MaxDelayMilliseconds = 0 });
        Task<BatchResult> running = held.Batcher.SubmitAsync(Image(0), 1);
        await held.Held;
        Task<BatchResult> first = held.Batcher.SubmitAsync(Image(1), 1);
        held.Batcher.BeforeForward = null;  // nothing holds the next caller: only the queue stands in its way

        Task<BatchResult> second = held.Batcher.SubmitAsync(Image(2), 1);

        Assert.False(second.IsCompleted);
        held.Release();
        await running;
        BatchResult[] results = await Task.WhenAll(first, second);
        Assert.All(results, r => Assert.Equal(2, r.BatchSize));
        Assert.Equal([1, 2], held.Sizes);
    }

    [Fact]
    public async Task A_request_larger_than_the_batch_size_still_runs_alone()
    {
        var batcher = new DynamicBatcher(Mnist, new BatchingOptions { MaxBatchSize = 2 });
        float[] three = [.. Image(1), .. Image(2), .. Image(3)];

        BatchResult result = await batcher.SubmitAsync(three, 3);

        Assert.Equal(3, result.BatchSize);
        Assert.Equal(3 * Mnist.OutputShape.Size, result.Outputs.Length);
    }

    [Fact]
    public async Task A_canceled_request_is_dropped_and_the_others_still_run()
    {
        var batcher = new DynamicBatcher(Mnist, new BatchingOptions { MaxBatchSize = 8, MaxDelayMilliseconds = 5000 });
        using var canceled = new CancellationTokenSource();
        canceled.Cancel();

        Task<BatchResult> dropped = batcher.SubmitAsync(Image(1), 1, canceled.Token);
        Task<BatchResult> kept = batcher.SubmitAsync(Image(2), 1);
        batcher.Complete();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => dropped);
        Assert.Equal(Alone(Image(2)), (await kept).Outputs);
        await batcher.Completion;
    }

    [Fact]
    public async Task A_completed_batcher_accepts_nothing_new()
    {
        var batcher = new DynamicBatcher(Mnist, new BatchingOptions());
        batcher.Complete();
        await batcher.Completion;

        Assert.Throws<ObjectDisposedException>(() => { _ = batcher.SubmitAsync(Image(1), 1); });
    }

    /// <summary>A batcher whose worker stops before each forward pass until <see cref="Release"/>; <see cref="Held"/> completes when it first stops.</summary>
    private sealed class HeldBatcher
    {
        private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public HeldBatcher(BatchingOptions options)
        {
            Batcher = new DynamicBatcher(Mnist, options, size => { lock (Sizes) Sizes.Add(size); })
            {
                BeforeForward = () =>
                {
                    _held.TrySetResult();
                    return _release.Task;
                },
            };
        }

        public DynamicBatcher Batcher { get; }
        public List<int> Sizes { get; } = [];
        public Task Held => _held.Task.WaitAsync(TimeSpan.FromMinutes(1));
        public void Release() => _release.TrySetResult();
    }

    [Fact]
    public async Task A_full_queue_refuses_the_next_request_and_the_queued_ones_still_run()
    {
        var held = new HeldBatcher(new BatchingOptions { MaxBatchSize = 8, MaxQueuedImages = 3 });
        Task<BatchResult> running = held.Batcher.SubmitAsync(Image(0), 1);
        await held.Held;
        Task<BatchResult>[] queued = [held.Batcher.SubmitAsync(Image(1), 1), held.Batcher.SubmitAsync([.. Image(2), .. Image(3)], 2)];
        Assert.Equal(3, held.Batcher.QueuedImages);

        bool accepted = held.Batcher.TrySubmit(Image(4), 1, CancellationToken.None, out _);

        Assert.False(accepted);
        Assert.Equal(3, held.Batcher.QueuedImages);
        held.Release();
        await running;
        BatchResult[] results = await Task.WhenAll(queued);
        Assert.Equal(Alone(Image(1)), results[0].Outputs.AsSpan(0, Mnist.OutputShape.Size).ToArray(), (a, b) => Math.Abs(a - b) < 1e-6f);
        Assert.Equal(0, held.Batcher.QueuedImages);
        Assert.Equal(4, held.Sizes.Sum());
    }

    [Fact]
    public async Task An_empty_queue_takes_a_request_larger_than_the_queue_limit()
    {
        var batcher = new DynamicBatcher(Mnist, new BatchingOptions { MaxBatchSize = 8, MaxQueuedImages = 2 });

        BatchResult result = await batcher.SubmitAsync([.. Image(1), .. Image(2), .. Image(3)], 3);

        Assert.Equal(3, result.BatchSize);
    }

    [Fact]
    public async Task A_request_canceled_while_queued_leaves_the_queue_at_once_and_never_runs()
    {
        var held = new HeldBatcher(new BatchingOptions { MaxBatchSize = 8, MaxQueuedImages = 8 });
        Task<BatchResult> running = held.Batcher.SubmitAsync(Image(0), 1);
        await held.Held;
        using var clientGone = new CancellationTokenSource();
        Task<BatchResult> canceled = held.Batcher.SubmitAsync([.. Image(1), .. Image(2)], 2, clientGone.Token);
        Task<BatchResult> kept = held.Batcher.SubmitAsync(Image(3), 1);
        Assert.Equal((2, 3), (held.Batcher.QueueLength, held.Batcher.QueuedImages));

        clientGone.Cancel();

        Assert.Equal((1, 1), (held.Batcher.QueueLength, held.Batcher.QueuedImages));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => canceled);
        held.Release();
        await running;
        Assert.Equal(1, (await kept).BatchSize);
        Assert.Equal([1, 1], held.Sizes);
    }
}
