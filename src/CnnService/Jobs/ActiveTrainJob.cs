using System.Net.ServerSentEvents;
using System.Threading.Channels;

namespace CnnService.Jobs;

/// <summary>
/// The in-memory side of a queued or running job: its latest record (fresher than the database,
/// which is written at most once a second during a run), the token a user's cancel fires, and the
/// event streams watching it. Not synchronised: <see cref="TrainJobManager"/> holds its lock around every use.
/// </summary>
internal sealed class ActiveTrainJob(TrainJob job)
{
    /// <summary>Events a slow client has not read yet; beyond this the oldest are dropped, never the last (the final state).</summary>
    private const int WatcherBacklog = 256;

    private readonly List<Channel<SseItem<object>>> _watchers = [];

    public TrainJob Job { get; set; } = job;
    public CancellationTokenSource UserCancel { get; } = new();
    public long LastSaved { get; set; }
    public long LastProgressEvent { get; set; }

    /// <summary>A new event stream, starting with the job's current state.</summary>
    public Channel<SseItem<object>> Watch()
    {
        var channel = Channel.CreateBounded<SseItem<object>>(new BoundedChannelOptions(WatcherBacklog)
        {
            FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true,
        });
        channel.Writer.TryWrite(TrainJobEvents.State(Job));
        _watchers.Add(channel);
        return channel;
    }

    public void Unwatch(Channel<SseItem<object>> channel) => _watchers.Remove(channel);

    public void Send(SseItem<object> item)
    {
        foreach (Channel<SseItem<object>> watcher in _watchers) watcher.Writer.TryWrite(item);
    }

    /// <summary>Ends every stream after what was sent: the job has finished.</summary>
    public void Close()
    {
        foreach (Channel<SseItem<object>> watcher in _watchers) watcher.Writer.TryComplete();
        _watchers.Clear();
    }
}
