using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using CnnService.Engine.Training;
using Microsoft.Extensions.Options;

namespace CnnService.Jobs;

/// <summary>
/// Every train job's state changes go through here, under one lock, so the record in memory, the row in
/// the database and the events sent always agree, and a cancel can never slip between a job being taken
/// from the queue and it starting. The endpoints ask it (create, find, cancel, resume, watch); the
/// worker and runner tell it (started, progress, written, finished).
/// </summary>
public sealed class TrainJobManager(
    TrainJobStore store, TrainJobQueue queue, TrainJobPaths paths, IOptions<TrainJobOptions> options, TimeProvider time, ILogger<TrainJobManager> logger)
{
    /// <summary>How stale the database may be during a run: a crash loses at most this much of the progress record (never the checkpoint).</summary>
    private static readonly TimeSpan SaveInterval = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, ActiveTrainJob> _active = new(StringComparer.Ordinal);
    private readonly TimeSpan _progressInterval = TimeSpan.FromMilliseconds(options.Value.ProgressIntervalMilliseconds);

    public TrainJob Create(TrainJobSettings settings)
    {
        var job = new TrainJob { Id = Guid.CreateVersion7().ToString("N"), State = TrainJobState.Queued, Settings = settings, CreatedAt = time.GetUtcNow() };
        lock (_lock)
        {
            store.Insert(job);
            _active[job.Id] = new ActiveTrainJob(job);
        }

        queue.Enqueue(job.Id);
        logger.LogInformation("Train job {Id} queued: {Model} on {Dataset}, {Epochs} epochs", job.Id, settings.Model, settings.Dataset, settings.Epochs);
        return job;
    }

    public TrainJob? Find(string id)
    {
        lock (_lock)
        {
            if (_active.TryGetValue(id, out ActiveTrainJob? active)) return active.Job;
        }

        return store.Find(id);
    }

    /// <summary>Every job, newest first, live ones as of this moment.</summary>
    public IReadOnlyList<TrainJob> List()
    {
        IReadOnlyList<TrainJob> stored = store.List();
        lock (_lock)
        {
            return stored.Select(j => _active.TryGetValue(j.Id, out ActiveTrainJob? a) ? a.Job : j).ToList();
        }
    }

    /// <summary>How many jobs are in each state (every state present), for metrics.</summary>
    public IReadOnlyDictionary<TrainJobState, int> CountByState() => store.CountByState();

    /// <summary>
    /// A queued job is canceled at once. A running one is asked to stop: the trainer checks between steps,
    /// checkpoints and the job ends <c>canceled</c>. Once its model is written the job is publishing it and
    /// can no longer be canceled; a finished job neither.
    /// </summary>
    public TrainJobCommandResult Cancel(string id)
    {
        lock (_lock)
        {
            if (!_active.TryGetValue(id, out ActiveTrainJob? active))
            {
                return store.Find(id) is TrainJob stored
                    ? new(TrainJobCommandStatus.Conflict, stored, $"The job is {stored.State.Name()}: only a queued or running job can be canceled.")
                    : new(TrainJobCommandStatus.NotFound);
            }

            if (active.Job.State == TrainJobState.Queued)
                return new(TrainJobCommandStatus.Done, FinishLocked(active, TrainJobState.Canceled, error: null));
            if (active.Job.ModelVersion is int version)
                return new(TrainJobCommandStatus.Conflict, active.Job, $"The job has trained and written version {version}; it is publishing it and can no longer be canceled.");

            active.UserCancel.Cancel();
            Change(active, active.Job with { CancelRequested = true });
            return new(TrainJobCommandStatus.Accepted, active.Job);
        }
    }

    /// <summary>
    /// Queues a stopped job again. An interrupted job always can be (from its checkpoint if it got to write
    /// one, else from the start), and so can one failed by crashes; a failed or canceled one when it has a checkpoint, since then the work
    /// done is kept and the trainer checks that nothing about the run changed.
    /// </summary>
    public TrainJobCommandResult Resume(string id)
    {
        TrainJob job;
        lock (_lock)
        {
            if (_active.TryGetValue(id, out ActiveTrainJob? active))
                return new(TrainJobCommandStatus.Conflict, active.Job, $"The job is {active.Job.State.Name()}: only a stopped job can be resumed.");
            if (store.Find(id) is not TrainJob stored) return new(TrainJobCommandStatus.NotFound);
            bool hasCheckpoint = File.Exists(paths.Checkpoint(id));
            string? refusal = stored.State switch
            {
                TrainJobState.Interrupted => null,
                TrainJobState.Failed or TrainJobState.Canceled when hasCheckpoint => null,
                TrainJobState.Failed when stored.Attempts > 0 => null, // failed by crashes: the user decides to try again
                TrainJobState.Succeeded => "The job has succeeded: there is nothing to resume.",
                _ => $"The job is {stored.State.Name()} and has no checkpoint to resume from: create a new job instead.",
            };
            if (refusal is not null) return new(TrainJobCommandStatus.Conflict, stored, refusal);

            job = stored with { State = TrainJobState.Queued, FinishedAt = null, Error = null, CancelRequested = false, Attempts = 0 };
            store.Update(job);
            _active[id] = new ActiveTrainJob(job);
        }

        queue.Enqueue(id);
        logger.LogInformation("Train job {Id} queued again to resume", id);
        return new(TrainJobCommandStatus.Accepted, job);
    }

    /// <summary>
    /// The job's events: its state now, then its progress and state changes until it finishes; for a
    /// finished job just its final state. Null when there is no such job. The stream also ends when
    /// <paramref name="stopping"/> fires: the service is shutting down, and an open stream would hold
    /// the server up, and with it the jobs' chance to checkpoint.
    /// </summary>
    public IAsyncEnumerable<SseItem<object>>? Watch(string id, CancellationToken stopping)
    {
        lock (_lock)
        {
            if (_active.TryGetValue(id, out ActiveTrainJob? active)) return Drain(id, active.Watch(), stopping);
        }

        if (store.Find(id) is not TrainJob job) return null;
        return Once(TrainJobEvents.State(job));
    }

    /// <summary>
    /// At start-up: a job marked running was running in a process that died. Its record goes back to what
    /// its checkpoint holds (the record is saved more often than the checkpoint), and it is queued again to
    /// continue from there; unless it was running through <c>Jobs:CrashesBeforeFailing</c> crashes, in which
    /// case it is likely what kills the process, and is failed. Queued jobs never started, so nothing was lost.
    /// All of them are queued again in the order they were created. A checkpoint write the crash cut short
    /// left its temporary file (the checkpoint before it is intact): those are deleted.
    /// </summary>
    public void Recover()
    {
        DeleteLeftoverTempFiles();
        int limit = options.Value.CrashesBeforeFailing;
        foreach (TrainJob job in store.InState(TrainJobState.Running))
        {
            TrainJob atCheckpoint = AtCheckpoint(job);
            if (job.Attempts >= limit)
            {
                store.Update(atCheckpoint with
                {
                    State = TrainJobState.Failed, FinishedAt = time.GetUtcNow(), CancelRequested = false,
                    Error = $"The service stopped unexpectedly {job.Attempts} times while this job was running, so it is not restarted by itself; resume it to try again.",
                });
                logger.LogError("Train job {Id} was running through {Crashes} crashes of the service: marked failed", job.Id, job.Attempts);
                continue;
            }

            store.Update(atCheckpoint with { State = TrainJobState.Queued, CancelRequested = false });
            logger.LogWarning("Train job {Id} was running when the service died (epoch {Epoch}, step {Step}): queued again from epoch {CheckpointEpoch}, step {CheckpointStep}",
                job.Id, job.Epoch, job.Step, atCheckpoint.Epoch, atCheckpoint.Step);
        }

        foreach (TrainJob job in store.InState(TrainJobState.Queued))
        {
            lock (_lock) _active[job.Id] = new ActiveTrainJob(job);
            queue.Enqueue(job.Id);
        }
    }

    private void DeleteLeftoverTempFiles()
    {
        foreach (string file in paths.LeftoverCheckpointTempFiles())
        {
            try
            {
                File.Delete(file);
                logger.LogInformation("Deleted {File}, left by a checkpoint write the service did not finish", file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning(e, "Could not delete {File}, left by a checkpoint write the service did not finish", file);
            }
        }
    }

    /// <summary>The record's position and history as its checkpoint holds them (the start, without one): where a resumed run continues.</summary>
    private TrainJob AtCheckpoint(TrainJob job)
    {
        string path = paths.Checkpoint(job.Id);
        try
        {
            return Positioned(job, File.Exists(path) ? Checkpoint.Load(path).State : null);
        }
        catch (Exception e) when (e is IOException or CnnService.Engine.Format.ModelFormatException)
        {
            logger.LogWarning(e, "Train job {Id}: its checkpoint is unreadable; the record keeps its last saved position", job.Id);
            return job;
        }
    }

    /// <summary>The record at <paramref name="state"/>'s position (the record's epoch is 1-based, the checkpoint's the one in progress), or at the start without one.</summary>
    private static TrainJob Positioned(TrainJob job, Checkpoint? state)
    {
        if (state is null) return job with { Epoch = 0, Step = 0, History = [] };
        bool midEpoch = state.StepInEpoch > 0;
        return job with
        {
            Epoch = midEpoch ? state.Epoch + 1 : state.Epoch,
            Step = midEpoch ? state.StepInEpoch : state.Epoch > 0 ? job.StepsPerEpoch ?? 0 : 0,
            History = state.History,
        };
    }

    /// <summary>Marks a queued job running, unless it was canceled while it waited (then null).</summary>
    public RunningJob? TryStart(string id)
    {
        lock (_lock)
        {
            if (!_active.TryGetValue(id, out ActiveTrainJob? active) || active.Job.State != TrainJobState.Queued) return null;
            // Counted and saved before the run starts: if it takes the process down, the next start knows.
            Change(active, active.Job with { State = TrainJobState.Running, StartedAt = active.Job.StartedAt ?? time.GetUtcNow(), Attempts = active.Job.Attempts + 1 });
            logger.LogInformation("Train job {Id} started", id);
            return new RunningJob(active.Job, active.UserCancel.Token);
        }
    }

    /// <summary>
    /// The trainer is built: its steps per epoch, and the checkpoint it continues from, if any. The record's
    /// position and history become the checkpoint's (the record may have been saved further along), or the start.
    /// </summary>
    public void Prepared(string id, int stepsPerEpoch, Checkpoint? from)
    {
        TrainJob? job = null;
        Update(id, active => job = Positioned(active.Job with { StepsPerEpoch = stepsPerEpoch }, from));
        if (from is not null && job is not null)
            logger.LogInformation("Train job {Id} continues from its checkpoint at epoch {Epoch}, step {Step}", id, job.Epoch, job.Step);
    }

    /// <summary>
    /// A trainer report. The record follows every report; the watchers get one at most every
    /// <c>Jobs:ProgressIntervalMilliseconds</c> (an epoch's end always), the database one a second (an epoch's end always).
    /// </summary>
    public void Progress(string id, TrainProgress p)
    {
        lock (_lock)
        {
            if (!_active.TryGetValue(id, out ActiveTrainJob? active)) return;
            TrainJob job = active.Job;
            active.Job = job with
            {
                Epoch = p.Epoch, Step = p.Step, StepsPerEpoch = p.StepsPerEpoch, Loss = p.Loss, Accuracy = p.Accuracy,
                LearningRate = TrainJobProgress.Widen(p.LearningRate), ImagesPerSecond = p.ImagesPerSecond,
                ValidationAccuracy = p.Summary?.ValidationAccuracy ?? job.ValidationAccuracy,
                History = p.Summary is EpochSummary s ? [.. job.History.Where(e => e.Epoch < s.Epoch), s] : job.History,
            };
            long now = time.GetTimestamp();
            bool epochEnd = p.Summary is not null;
            if (epochEnd || time.GetElapsedTime(active.LastProgressEvent, now) >= _progressInterval)
            {
                active.Send(TrainJobEvents.Progress(TrainJobProgress.From(id, p)));
                active.LastProgressEvent = now;
            }

            if (epochEnd || time.GetElapsedTime(active.LastSaved, now) >= SaveInterval)
            {
                store.Update(active.Job);
                active.LastSaved = now;
            }
        }
    }

    /// <summary>The model version is written (not yet served): from here on the job only publishes it.</summary>
    public void Written(string id, int version, double testAccuracy, IReadOnlyList<EpochSummary> history) =>
        Update(id, active => active.Job with { ModelVersion = version, TestAccuracy = testAccuracy, History = history });

    /// <summary>The job has stopped in <paramref name="state"/>; its event streams end.</summary>
    public TrainJob Finish(string id, TrainJobState state, string? error, IReadOnlyList<EpochSummary>? history = null)
    {
        lock (_lock)
        {
            ActiveTrainJob active = _active[id];
            if (history is not null) active.Job = active.Job with { History = history };
            return FinishLocked(active, state, error);
        }
    }

    private TrainJob FinishLocked(ActiveTrainJob active, TrainJobState state, string? error)
    {
        // The run stopped cleanly, whatever its outcome: no crash to count against it.
        Change(active, active.Job with { State = state, Error = error, FinishedAt = time.GetUtcNow(), Attempts = 0 });
        active.Close();
        _active.Remove(active.Job.Id);
        logger.LogInformation("Train job {Id} {State}{Error}", active.Job.Id, state.Name(), error is null ? "" : ": " + error);
        return active.Job;
    }

    /// <summary>A change worth telling: saved at once and sent to the watchers as a state event.</summary>
    private void Change(ActiveTrainJob active, TrainJob job)
    {
        active.Job = job;
        store.Update(job);
        active.LastSaved = time.GetTimestamp();
        active.Send(TrainJobEvents.State(job));
    }

    private void Update(string id, Func<ActiveTrainJob, TrainJob> change)
    {
        lock (_lock)
        {
            if (!_active.TryGetValue(id, out ActiveTrainJob? active)) return;
            active.Job = change(active);
            store.Update(active.Job);
            active.LastSaved = time.GetTimestamp();
        }
    }

    private async IAsyncEnumerable<SseItem<object>> Drain(
        string id, Channel<SseItem<object>> channel, CancellationToken stopping, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(stopping, cancellationToken);
        try
        {
            while (await WaitToReadAsync(channel.Reader, either.Token))
            {
                while (channel.Reader.TryRead(out SseItem<object> item)) yield return item;
            }
        }
        finally
        {
            lock (_lock)
            {
                if (_active.TryGetValue(id, out ActiveTrainJob? active)) active.Unwatch(channel);
            }
        }
    }

    /// <summary>False at the end of the stream, and when the client leaves or the service stops: either way the stream ends cleanly.</summary>
    private static async Task<bool> WaitToReadAsync(ChannelReader<SseItem<object>> reader, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.WaitToReadAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static async IAsyncEnumerable<SseItem<object>> Once(SseItem<object> item)
    {
        await Task.CompletedTask;
        yield return item;
    }
}
