using System.Text.RegularExpressions;
using CnnService.Engine.Training;
using CnnService.Jobs;
using CnnService.Tests.Support;

namespace CnnService.Tests.Jobs;

/// <summary>
/// The real service killed with SIGKILL while a job trains, and started again on the same folder: what a
/// crash, the OOM killer or a pulled plug does, with no shutdown to checkpoint on.
/// </summary>
public sealed class TrainJobCrashTests
{
    [Fact]
    public async Task A_job_killed_mid_epoch_continues_after_the_restart_from_its_mid_epoch_checkpoint_not_from_the_start()
    {
        using var folder = new TempFolder();
        // Checkpoints after every step (a step takes more than a microsecond); the first run holds after its first
        // mid-epoch one (the trainer's test seam), however fast the machine, and is killed there.
        (string, string) often = ("Jobs__CheckpointSeconds", "0.000001"), hold = ("CNN_TRAIN_HOLD_AFTER_CHECKPOINT", "1");
        TrainJob job;
        Checkpoint atKill;
        await using (ServiceProcess service = await ServiceProcess.StartAsync(folder, often, hold))
        {
            // keras-mnist on 640 digits: 20 steps an epoch.
            job = await service.CreateAsync(JobBodies.Tiny(("arch", "keras-mnist"), ("limit", 640), ("epochs", 2)));
            await service.WaitUntilAsync(() => ReadCheckpoint(service.Checkpoint(job.Id)) is { StepInEpoch: > 0 }, "a mid-epoch checkpoint");
            await service.KillAsync();
            atKill = ReadCheckpoint(service.Checkpoint(job.Id))!;
        }

        Assert.True(atKill.Epoch > 0 || atKill.StepInEpoch > 0, $"checkpoint at epoch {atKill.Epoch}, step {atKill.StepInEpoch}");
        (int Epoch, int Step) expected = atKill.StepInEpoch > 0 ? (atKill.Epoch + 1, atKill.StepInEpoch) : (atKill.Epoch, 20);

        await using ServiceProcess restarted = await ServiceProcess.StartAsync(folder, often);
        Match resumedAt = await restarted.WaitForLineAsync(new Regex(@"continues from its checkpoint at epoch (\d+), step (\d+)")).WaitAsync(ServiceProcess.Patience);
        TrainJob done = await restarted.WaitForAsync(job.Id, j => !j.State.IsLive(), "the resumed job to end");

        Assert.Equal(expected, (int.Parse(resumedAt.Groups[1].Value), int.Parse(resumedAt.Groups[2].Value)));
        Assert.True(done.State == TrainJobState.Succeeded, $"{done.State.Name()}: {done.Error}\n{restarted.Output}");
        Assert.Equal([1, 2], done.History.Select(e => e.Epoch));
        Assert.Equal(0, done.Attempts);
    }

    [Fact]
    public async Task A_job_running_through_two_crashes_is_failed_with_the_reason_and_not_restarted()
    {
        using var folder = new TempFolder();
        TrainJob job;
        await using (ServiceProcess first = await ServiceProcess.StartAsync(folder))
        {
            job = await first.CreateAsync(JobBodies.Long());
            await first.WaitForAsync(job.Id, j => j is { State: TrainJobState.Running, Attempts: 1 }, "the job to run");
            await first.KillAsync();
        }

        await using (ServiceProcess second = await ServiceProcess.StartAsync(folder))
        {
            // After one crash it is queued again by itself, and its second run is counted before it starts.
            await second.WaitForAsync(job.Id, j => j is { State: TrainJobState.Running, Attempts: 2 }, "the job to run again after the first crash");
            await second.KillAsync();
        }

        await using ServiceProcess third = await ServiceProcess.StartAsync(folder);
        TrainJob failed = await third.GetAsync(job.Id);

        Assert.True(failed.State == TrainJobState.Failed, $"{failed.State.Name()}: {failed.Error}\n{third.Output}");
        Assert.Contains("stopped unexpectedly 2 times while this job was running", failed.Error, StringComparison.Ordinal);
        Assert.Contains("resume it to try again", failed.Error, StringComparison.Ordinal);
        Assert.DoesNotContain($"Train job {job.Id} started", third.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_clean_shutdown_is_not_a_crash_and_does_not_count_toward_failing_the_job()
    {
        using var folder = new TempFolder();
        TrainJob job;
        await using (ServiceProcess first = await ServiceProcess.StartAsync(folder))
        {
            job = await first.CreateAsync(JobBodies.Long());
            await first.WaitForAsync(job.Id, j => j is { State: TrainJobState.Running, Attempts: 1 }, "the job to run");
            await first.StopAsync();
        }

        await using (ServiceProcess second = await ServiceProcess.StartAsync(folder))
        {
            TrainJob interrupted = await second.GetAsync(job.Id);
            Assert.True(interrupted is { State: TrainJobState.Interrupted, Attempts: 0 }, $"{interrupted.State.Name()}, {interrupted.Attempts} attempts: {interrupted.Error}");
            (await second.Client.PostAsync($"/v1/train-jobs/{job.Id}/resume", null)).Dispose();
            await second.WaitForAsync(job.Id, j => j is { State: TrainJobState.Running, Attempts: 1 }, "the resumed job to run");
            await second.KillAsync();
        }

        // One crash since the clean stop: queued again by itself, not failed.
        await using ServiceProcess third = await ServiceProcess.StartAsync(folder);
        await third.WaitForAsync(job.Id, j => j is { State: TrainJobState.Running, Attempts: 2 }, "the job to run again after its one crash");
    }

    /// <summary>The checkpoint's state, or null while there is none (it is replaced by a rename, so never seen half written).</summary>
    private static Checkpoint? ReadCheckpoint(string path)
    {
        try
        {
            return File.Exists(path) ? Checkpoint.Load(path).State : null;
        }
        catch (CnnService.Engine.Format.ModelFormatException e) when (e.InnerException is FileNotFoundException)
        {
            return null;
        }
    }
}
