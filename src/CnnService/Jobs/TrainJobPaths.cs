using CnnService.Engine.Data;
using CnnService.Engine.Format;
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
        DataRoot = Path.GetFullPath(
            options.Value.DataRoot is { Length: > 0 } configured ? configured
            : Environment.GetEnvironmentVariable(DatasetCatalog.DataRootVariable) is { Length: > 0 } variable ? variable
            : NearestDataFolder(ContentRoot),
            ContentRoot);
    }

    public string ContentRoot { get; }
    public string Root { get; }

    /// <summary>Where the named datasets are: <c>Jobs:DataRoot</c>, else <c>$CNN_DATA_ROOT</c>, else the nearest <c>data/</c> at or above the content root (see <see cref="NearestDataFolder"/>).</summary>
    public string DataRoot { get; }
    public string Database => Path.Combine(Root, "jobs.db");

    /// <summary>
    /// The nearest existing <c>data/</c> at or above <paramref name="from"/> (a container's <c>/app/data</c>); else
    /// <c>../../data</c>, the repository's under <c>dotnet run --project src/CnnService</c> before anything was fetched.
    /// </summary>
    private static string NearestDataFolder(string from) =>
        DatasetCatalog.NearestDataFolder(from) ?? Path.Combine(from, "..", "..", DatasetCatalog.DataFolder);

    /// <summary>Where the checkpoints are.</summary>
    public string Checkpoints => Path.Combine(Root, "checkpoints");

    /// <summary>The job's checkpoint: one per job, written by the trainer each epoch, every <c>Jobs:CheckpointSeconds</c> within one, and when stopped.</summary>
    public string Checkpoint(string id) => Path.Combine(Checkpoints, id + CheckpointExtension);

    private const string CheckpointExtension = ".ckpt";

    /// <summary>
    /// The temporary files of checkpoint writes that a killed process left in <see cref="Checkpoints"/>
    /// (<see cref="SafeTensors.TargetOfTempFile"/> naming a checkpoint); nothing else there.
    /// </summary>
    public IEnumerable<string> LeftoverCheckpointTempFiles() =>
        Directory.Exists(Checkpoints)
            ? Directory.EnumerateFiles(Checkpoints).Where(file =>
                SafeTensors.TargetOfTempFile(Path.GetFileName(file)) is string target && target.EndsWith(CheckpointExtension, StringComparison.Ordinal))
            : [];
}
