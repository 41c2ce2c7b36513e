using Microsoft.Extensions.Options;

namespace CnnService.Jobs;

/// <summary>
/// Where the jobs' files are, as absolute paths: <c>Jobs:Root</c> and <c>Jobs:DataRoot</c> resolved
/// against the content root once, so nothing depends on the process's working directory.
/// </summary>
public sealed class TrainJobPaths
{
    public TrainJobPaths(IOptions<TrainJobOptions> options, IHostEnvironment environment)
    {
        ContentRoot = environment.ContentRootPath;
        Root = Path.GetFullPath(options.Value.Root, ContentRoot);
        DataRoot = string.IsNullOrEmpty(options.Value.DataRoot) ? null : Path.GetFullPath(options.Value.DataRoot, ContentRoot);
    }

    public string ContentRoot { get; }
    public string Root { get; }
    public string? DataRoot { get; }
    public string Database => Path.Combine(Root, "jobs.db");

    /// <summary>The job's checkpoint: one per job, written by the trainer each epoch and when stopped.</summary>
    public string Checkpoint(string id) => Path.Combine(Root, "checkpoints", id + ".ckpt");
}
