namespace CnnService.Jobs;

/// <summary>A job the worker has just started: its record at that moment, and the token a user's cancel fires.</summary>
public sealed record RunningJob(TrainJob Job, CancellationToken UserCancel);
