using System.Net.ServerSentEvents;

namespace CnnService.Jobs;

/// <summary>
/// The events of <c>GET /v1/train-jobs/{id}/events</c>: <c>state</c> carries the whole job (sent on
/// connecting and at each change of state), <c>progress</c> a <see cref="TrainJobProgress"/>.
/// </summary>
public static class TrainJobEvents
{
    public const string StateEvent = "state";
    public const string ProgressEvent = "progress";

    public static SseItem<object> State(TrainJob job) => new(job, StateEvent);

    public static SseItem<object> Progress(TrainJobProgress progress) => new(progress, ProgressEvent);
}
