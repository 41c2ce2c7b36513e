using System.Threading.Channels;

namespace CnnService.Jobs;

/// <summary>
/// The ids of jobs waiting to run, in the order they were queued. Only ids: the job itself is in
/// <see cref="TrainJobManager"/>, so a job canceled while it waits is skipped when its id comes up.
/// </summary>
public sealed class TrainJobQueue
{
    private readonly Channel<string> _ids = Channel.CreateUnbounded<string>();

    public void Enqueue(string id) => _ids.Writer.TryWrite(id);

    public ValueTask<string> DequeueAsync(CancellationToken cancellationToken) => _ids.Reader.ReadAsync(cancellationToken);
}
