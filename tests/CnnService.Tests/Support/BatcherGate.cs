using CnnService.Batching;
using CnnService.Models;

namespace CnnService.Tests.Support;

/// <summary>Holds the mnist batcher before its forward pass, so a test can fill its queue and then let it run.</summary>
public sealed class BatcherGate
{
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public BatcherGate(ServiceFactory factory)
    {
        Assert.True(factory.Repository.TryAcquire("mnist", null, out ModelLease lease, out _));
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

    public async Task QueuedAsync(int images)
    {
        using var hang = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (Batcher.QueuedImages != images) await Task.Delay(10, hang.Token);
    }
}
