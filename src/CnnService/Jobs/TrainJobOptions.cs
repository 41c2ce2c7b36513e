namespace CnnService.Jobs;

/// <summary>The <c>Jobs</c> settings.</summary>
public sealed class TrainJobOptions
{
    public const string Section = "Jobs";

    /// <summary>
    /// The jobs' data folder (the SQLite database and one checkpoint per job); a relative path is
    /// taken from the content root, so the default lands in the repository's git-ignored <c>data/</c>
    /// under <c>dotnet run --project src/CnnService</c>.
    /// </summary>
    public string Root { get; set; } = "../../data/service";

    /// <summary>Jobs trained at once. One by default: training takes every core it is given.</summary>
    public int Concurrency { get; set; } = 1;

    /// <summary>Threads a job trains with unless its request says; default: all cores but one, left to serving predictions.</summary>
    public int? Threads { get; set; }

    /// <summary>
    /// Where the named datasets (<c>mnist</c>, <c>fashion-mnist</c>) live, relative to the content root;
    /// unset: <c>$CNN_DATA_ROOT</c>, else the nearest <c>data/</c> at or above the content root (none yet:
    /// <c>../../data</c>, the repository's under <c>dotnet run</c>). It is also
    /// the one dataset root when <c>Datasets:Roots</c> is not set.
    /// </summary>
    public string? DataRoot { get; set; }

    /// <summary>
    /// The shortest time between two step-progress events of a job's stream (an epoch's end is always
    /// sent): the trainer reports every step, hundreds a second, more than any client wants. 0 sends every one.
    /// </summary>
    public int ProgressIntervalMilliseconds { get; set; } = 200;

    /// <summary>
    /// A job running when the process dies is queued again at the next start, to continue from its last
    /// checkpoint; one that was running through this many crashes is failed instead, so a job that kills the
    /// process cannot restart it forever. A clean shutdown (SIGTERM) does not count.
    /// </summary>
    public int CrashesBeforeFailing { get; set; } = 2;

    /// <summary>
    /// The trainer also checkpoints mid-epoch once this many seconds have passed since its last checkpoint
    /// (it always does at each epoch's end and when stopped), so a crash loses at most this much training. 0: epoch ends only.
    /// </summary>
    public double CheckpointSeconds { get; set; } = 30;
}
