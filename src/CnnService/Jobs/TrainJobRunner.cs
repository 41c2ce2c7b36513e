using System.Text.Json.Nodes;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Training;
using Microsoft.Extensions.Options;

namespace CnnService.Jobs;

/// <summary>
/// Runs one job, as <c>cnn train</c> does, on the engine's shared pieces: open the data, build the spec,
/// train with a checkpoint per epoch and every <c>Jobs:CheckpointSeconds</c> (continuing from the job's checkpoint when there is one), score on
/// the test split, write the next model version, hand it to the <see cref="IModelPublisher"/>. Two
/// tokens stop it: a user's cancel (until the model is written; the job ends <c>canceled</c>) and the
/// service's shutdown (the job ends <c>interrupted</c>); either way the trainer checkpoints first.
/// </summary>
public sealed class TrainJobRunner(
    TrainJobManager jobs, TrainJobPaths paths, TrainJobDataset datasets, IOptions<TrainJobOptions> options, IServiceProvider services, ILogger<TrainJobRunner> logger)
{
    private const string ShutdownMessage = "The service shut down during the run; resume the job to continue from its checkpoint.";

    public async Task RunAsync(RunningJob run, CancellationToken shutdown)
    {
        string id = run.Job.Id;
        TrainJobSettings settings = run.Job.Settings;
        try
        {
            // Resolved here rather than injected: the service starts, and serves, without a repository to publish to.
            IModelPublisher publisher = services.GetService<IModelPublisher>()
                ?? throw new InvalidOperationException("No model repository is registered to publish the trained model to.");
            int? version = run.Job.ModelVersion is int written && Directory.Exists(ModelVersions.DirectoryOf(publisher.Root, settings.Model, written))
                ? written // trained and written before it stopped: only the publishing is left
                : null;
            if (version is null)
            {
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(run.UserCancel, shutdown);
                (version, IReadOnlyList<EpochSummary> history) = Train(run.Job, publisher.Root, stop.Token);
                if (version is null)
                {
                    bool byUser = run.UserCancel.IsCancellationRequested;
                    jobs.Finish(id, byUser ? TrainJobState.Canceled : TrainJobState.Interrupted, byUser ? null : ShutdownMessage, history);
                    return;
                }
            }

            await publisher.PublishAsync(settings.Model, version.Value, settings.Promote, shutdown);
            File.Delete(paths.Checkpoint(id));
            jobs.Finish(id, TrainJobState.Succeeded, error: null);
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            jobs.Finish(id, TrainJobState.Interrupted, ShutdownMessage);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Train job {Id} failed", id);
            jobs.Finish(id, TrainJobState.Failed, e.Message);
        }
    }

    private TimeSpan? CheckpointEvery => options.Value.CheckpointSeconds > 0 ? TimeSpan.FromSeconds(options.Value.CheckpointSeconds) : null;

    /// <summary>Trains and writes the model version; a null version when stopped first, with the epochs finished so far.</summary>
    private (int? Version, IReadOnlyList<EpochSummary> History) Train(TrainJob job, string modelsRoot, CancellationToken stop)
    {
        TrainJobSettings settings = job.Settings;
        TrainOptions trainOptions = settings.ToTrainOptions();
        TrainingData data = datasets.Open(settings);
        ModelSpec spec = settings.BuildSpec(data.Train);
        var trainer = new Trainer(spec, data.Train, data.Validation, trainOptions);
        string checkpoint = paths.Checkpoint(job.Id);
        jobs.Prepared(job.Id, trainer.StepsPerEpoch, File.Exists(checkpoint) ? Checkpoint.Load(checkpoint).State : null);

        TrainResult result = trainer.Run(WeightInitializer.Initialize(spec, settings.Seed), checkpoint, resume: true,
            new InlineProgress<TrainProgress>(p => jobs.Progress(job.Id, p)), stop, CheckpointEvery);
        if (!result.Completed) return (null, result.History);
        (double testLoss, double testAccuracy) = trainer.Evaluate(result.Network, data.Test);
        if (stop.IsCancellationRequested) return (null, result.History);

        JsonObject metrics = TrainingMetrics.Create(settings.Dataset, data.Train, data.Validation, data.Test, trainOptions, result, testLoss, testAccuracy);
        metrics["train_job"] = job.Id;
        int version = ModelVersions.WriteNext(modelsRoot, settings.Model, TrainingModel.WithMetrics(spec, metrics), result.Network.ExportTensors().ToList());
        jobs.Written(job.Id, version, Math.Round(testAccuracy, 6), result.History);
        return (version, result.History);
    }
}
