using Microsoft.Extensions.Options;

namespace CnnService.Jobs;

/// <summary>
/// Takes jobs off the queue and runs up to <c>Jobs:Concurrency</c> of them at once, each on its own
/// thread (training is long and CPU-bound: it would starve the thread pool that serves requests).
/// On shutdown it cancels the running jobs and waits for them to checkpoint and be marked
/// <c>interrupted</c> before the host stops.
/// </summary>
public sealed class TrainJobWorker(TrainJobManager jobs, TrainJobQueue queue, TrainJobRunner runner, IOptions<TrainJobOptions> options) : BackgroundService
{
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Before the server takes requests: no client may see a dead process's job as running.
        jobs.Recover();
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var slots = new SemaphoreSlim(options.Value.Concurrency);
        var running = new List<Task>();
        try
        {
            while (true)
            {
                await slots.WaitAsync(stoppingToken);
                RunningJob? run = null;
                try
                {
                    run = jobs.TryStart(await queue.DequeueAsync(stoppingToken));
                }
                finally
                {
                    if (run is null) slots.Release();
                }

                if (run is null) continue; // canceled while it waited
                running.RemoveAll(t => t.IsCompleted);
                running.Add(Task.Factory.StartNew(() => runner.RunAsync(run, stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
                    .Unwrap()
                    .ContinueWith(_ => slots.Release(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: the running jobs have seen the same token.
        }

        await Task.WhenAll(running);
    }
}
