namespace CnnService.Jobs;

/// <summary>How a cancel or resume went, for the endpoint to answer with.</summary>
public enum TrainJobCommandStatus
{
    /// <summary>No such job.</summary>
    NotFound,
    /// <summary>Done at once (a queued job canceled).</summary>
    Done,
    /// <summary>Under way (a running job asked to stop, a job queued again).</summary>
    Accepted,
    /// <summary>Not possible in the job's state; <see cref="TrainJobCommandResult.Reason"/> says why.</summary>
    Conflict,
}

public sealed record TrainJobCommandResult(TrainJobCommandStatus Status, TrainJob? Job = null, string? Reason = null);
