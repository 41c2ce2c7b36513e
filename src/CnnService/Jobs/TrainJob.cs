using CnnService.Engine.Training;

namespace CnnService.Jobs;

/// <summary>
/// A train job as the API shows it and the database keeps it: what was asked (<see cref="Settings"/>),
/// where the run is (epoch, step and the running figures of the epoch in progress), every finished
/// epoch, and how it ended. Immutable: each change is a new record, so a reader never sees half an update.
/// </summary>
public sealed record TrainJob
{
    public required string Id { get; init; }
    public required TrainJobState State { get; init; }
    public required TrainJobSettings Settings { get; init; }

    /// <summary>The epoch in progress or last finished (1-based; 0 before the first step).</summary>
    public int Epoch { get; init; }
    /// <summary>Steps done in <see cref="Epoch"/>.</summary>
    public int Step { get; init; }
    public int? StepsPerEpoch { get; init; }
    /// <summary>The epoch's mean training loss and accuracy so far.</summary>
    public double? Loss { get; init; }
    public double? Accuracy { get; init; }
    /// <summary>The last finished epoch's accuracy on the held-out validation images, when there are any.</summary>
    public double? ValidationAccuracy { get; init; }
    public double? LearningRate { get; init; }
    public double? ImagesPerSecond { get; init; }
    public IReadOnlyList<EpochSummary> History { get; init; } = [];

    /// <summary>The trained model's accuracy on the dataset's test split, as written in its model.json.</summary>
    public double? TestAccuracy { get; init; }
    /// <summary>The version of <c>models/&lt;model&gt;</c> the job wrote, once written.</summary>
    public int? ModelVersion { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
    /// <summary>When the job first started running; a resumed job keeps it.</summary>
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>Why the job failed or stopped, in words.</summary>
    public string? Error { get; init; }
    /// <summary>
    /// Runs started since the job last stopped cleanly, counted (and stored) before each run starts: a job
    /// found running at start-up with <c>Jobs:CrashesBeforeFailing</c> of them has been running through that many crashes.
    /// </summary>
    public int Attempts { get; init; }

    /// <summary>A user asked to cancel the running job; it stops at its next step.</summary>
    public bool CancelRequested { get; init; }
}
