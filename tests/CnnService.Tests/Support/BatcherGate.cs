using CnnService.Batching;
using CnnService.Models;

namespace CnnService.Tests.Support;

/// <summary>
/// Holds a model's default-version batcher before its forward pass, so a test can fill its queue and see the
/// next request shed, without timing: <see cref="Held"/> once a batch is waiting on the gate,
/// <see cref="QueuedAsync"/> once that many images wait behind it, <see cref="Release"/> to let them run.
/// </summary>
internal sealed class BatcherGate
{
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public BatcherGate(ServiceFactory factory, string model)
    {
        Assert.True(factory.Repository.TryAcquire(model, null, out ModelLease lease, out _));
        using (lease) Batcher = lease.Version.Batcher;
        Batcher.BeforeForward = () =>
        {
            _held.TrySetResult();
            return _release.Task;
        };
    }

    public DynamicBatcher Batcher { get; }

    public Task Held => _held.Task.WaitAsync(TimeSpan.FromMinutes(1));

    public void Release() => _release.TrySetResult();

    /// <summary>Waits (polling the queue, bounded by a minute) until exactly <paramref name="images"/> images are queued.</summary>
    public async Task QueuedAsync(int images)
    {
        using var hang = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (Batcher.QueuedImages != images) await Task.Delay(10, hang.Token);
    }
}
