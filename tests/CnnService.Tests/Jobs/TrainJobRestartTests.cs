using System.Net;
using System.Net.Http.Json;
using CnnService.Engine.Training;
using CnnService.Jobs;
using CnnService.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CnnService.Tests.Jobs;

/// <summary>What survives the service stopping: the records, the checkpoints, and the jobs that resume from them.</summary>
public sealed class TrainJobRestartTests
{
    [Fact]
    public async Task A_restart_keeps_the_records_the_running_job_is_interrupted_and_resumes_from_its_checkpoint()
    {
        using var folder = new TempFolder();
        TrainJob job;
        EpochSummary first;
        await using (var host = new JobsHost(folder))
        {
            // Three epochs of 1,000 digits: long enough to stop the service in the middle.
            job = await host.StartAsync(JobBodies.Tiny(("arch", "keras-mnist"), ("limit", 1000), ("epochs", 3)));
            first = (await host.WaitForAsync(job.Id, j => j.History.Count >= 1)).History[0];
        } // the host stops: the job is told, checkpoints and is marked interrupted

        await using var restarted = new JobsHost(folder);
        TrainJob interrupted = await restarted.GetAsync(job.Id);
        Assert.Equal(TrainJobState.Interrupted, interrupted.State);
        Assert.Contains("shut down", interrupted.Error, StringComparison.Ordinal);
        Assert.Equal(0, interrupted.Attempts); // a clean stop is not a crash
        Assert.Equal(first, interrupted.History[0]);
        Assert.InRange(interrupted.Epoch, 1, 3); // where it was
        Assert.True(File.Exists(Path.Combine(restarted.JobsRoot, "checkpoints", job.Id + ".ckpt")));

        using HttpResponseMessage resume = await restarted.PostAsync(job.Id, "resume");
        Assert.Equal(HttpStatusCode.Accepted, resume.StatusCode);
        Assert.Equal($"/v1/train-jobs/{job.Id}", resume.Headers.Location?.OriginalString);
        TrainJob done = await restarted.WaitForStateAsync(job.Id, TrainJobState.Succeeded);

        Assert.Equal([1, 2, 3], done.History.Select(e => e.Epoch));
        Assert.Equal(first, done.History[0]); // the epoch trained before the restart was kept, not trained again
        Assert.Equal(job.CreatedAt, done.CreatedAt);
        Assert.Equal(("digits", 1, true), Assert.Single(restarted.Publisher.Published));
    }

    [Fact]
    public async Task At_start_up_a_job_a_dead_process_left_running_is_queued_again_from_its_checkpoint_position()
    {
        using var folder = new TempFolder();
        TrainJob running, queued;
        await using (var host = new JobsHost(folder))
        {
            TrainJob template = await host.StartAsync(JobBodies.Tiny());
            await host.WaitForStateAsync(template.Id, TrainJobState.Succeeded);
            // Rows as a killed process leaves them, written behind the live service's back: the record says
            // epoch 1, step 3, but the process died before any checkpoint.
            var store = host.Factory.Services.GetRequiredService<TrainJobStore>();
            running = template with { Id = "dead-running", State = TrainJobState.Running, FinishedAt = null, ModelVersion = null, Epoch = 1, Step = 3, Attempts = 1 };
            queued = template with { Id = "dead-queued", State = TrainJobState.Queued, StartedAt = null, FinishedAt = null, ModelVersion = null, History = [] };
            store.Insert(running);
            store.Insert(queued);
        }

        await using var restarted = new JobsHost(folder);

        TrainJob resumed = await restarted.WaitForStateAsync(running.Id, TrainJobState.Succeeded);
        await restarted.WaitForStateAsync(queued.Id, TrainJobState.Succeeded);
        Assert.Equal([1], resumed.History.Select(e => e.Epoch));
        Assert.Equal(0, resumed.Attempts); // it ended cleanly
        Assert.Equal([2, 3], restarted.Publisher.Published.Select(p => p.Version)); // the crashed job first, then the queued one
    }

    [Fact]
    public async Task At_start_up_a_job_that_was_running_through_two_crashes_is_failed_with_the_reason_and_not_restarted()
    {
        using var folder = new TempFolder();
        TrainJob running;
        await using (var host = new JobsHost(folder))
        {
            TrainJob template = await host.StartAsync(JobBodies.Tiny());
            await host.WaitForStateAsync(template.Id, TrainJobState.Succeeded);
            var store = host.Factory.Services.GetRequiredService<TrainJobStore>();
            running = template with { Id = "crashes-twice", State = TrainJobState.Running, FinishedAt = null, ModelVersion = null, Epoch = 1, Step = 3, Attempts = 2 };
            store.Insert(running);
        }

        await using var restarted = new JobsHost(folder);
        TrainJob failed = await restarted.GetAsync(running.Id);

        Assert.Equal(TrainJobState.Failed, failed.State);
        Assert.Contains("stopped unexpectedly 2 times while this job was running", failed.Error, StringComparison.Ordinal);
        Assert.Contains("resume it to try again", failed.Error, StringComparison.Ordinal);
        Assert.Equal((0, 0), (failed.Epoch, failed.Step)); // no checkpoint: nothing of the run is kept, and the record does not claim it

        // The user can try again: it runs once more, with its count of crashes cleared.
        using HttpResponseMessage resume = await restarted.PostAsync(running.Id, "resume");
        Assert.Equal(HttpStatusCode.Accepted, resume.StatusCode);
        TrainJob done = await restarted.WaitForStateAsync(running.Id, TrainJobState.Succeeded);
        Assert.Equal(0, done.Attempts);
    }

    [Fact]
    public async Task Resuming_a_job_that_succeeded_is_a_409_problem()
    {
        using var folder = new TempFolder();
        await using var host = new JobsHost(folder);
        TrainJob job = await host.StartAsync(JobBodies.Tiny());
        await host.WaitForStateAsync(job.Id, TrainJobState.Succeeded);

        using HttpResponseMessage response = await host.PostAsync(job.Id, "resume");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_canceled_job_resumes_from_its_checkpoint()
    {
        using var folder = new TempFolder();
        await using var host = new JobsHost(folder);
        TrainJob job = await host.StartAsync(JobBodies.Long(("epochs", 40)));
        await host.WaitForAsync(job.Id, j => j.History.Count >= 2);
        (await host.PostAsync(job.Id, "cancel")).Dispose();
        TrainJob canceled = await host.WaitForStateAsync(job.Id, TrainJobState.Canceled);

        using HttpResponseMessage resume = await host.PostAsync(job.Id, "resume");

        Assert.Equal(HttpStatusCode.Accepted, resume.StatusCode);
        Assert.Equal(TrainJobState.Queued, (await resume.Content.ReadFromJsonAsync<TrainJob>(JobsHost.Json))!.State);
        TrainJob done = await host.WaitForStateAsync(job.Id, TrainJobState.Succeeded);
        Assert.Equal(Enumerable.Range(1, 40), done.History.Select(e => e.Epoch));
        Assert.Equal(canceled.History, done.History.Take(canceled.History.Count));
    }

    [Fact]
    public async Task At_start_up_the_temporary_file_of_a_checkpoint_write_cut_short_is_deleted_and_the_checkpoint_kept()
    {
        using var folder = new TempFolder();
        string checkpoint;
        await using (var host = new JobsHost(folder))
        {
            TrainJob job = await host.StartAsync(JobBodies.Long());
            await host.WaitForAsync(job.Id, j => j.History.Count >= 1);
            (await host.PostAsync(job.Id, "cancel")).Dispose();
            await host.WaitForStateAsync(job.Id, TrainJobState.Canceled);
            checkpoint = Path.Combine(host.JobsRoot, "checkpoints", job.Id + ".ckpt");
        }

        // What kill -9 during a checkpoint write leaves: the first half of the new checkpoint under the writer's temporary name.
        byte[] bytes = File.ReadAllBytes(checkpoint);
        string folderOf = Path.GetDirectoryName(checkpoint)!;
        string leftover = Path.Combine(folderOf, $".{Path.GetFileName(checkpoint)}.{Guid.NewGuid():N}.tmp");
        File.WriteAllBytes(leftover, bytes[..(bytes.Length / 2)]);
        string[] others = [Path.Combine(folderOf, "notes.tmp"), Path.Combine(folderOf, ".other.ckpt.not-a-guid.tmp"), Path.Combine(folderOf, $".model.json.{Guid.NewGuid():N}.tmp")];
        foreach (string other in others) File.WriteAllText(other, "not a checkpoint's temporary file");

        await using var restarted = new JobsHost(folder);
        (await restarted.Client.GetAsync("/v1/train-jobs")).Dispose(); // started: recovery has run

        Assert.False(File.Exists(leftover));
        Assert.Equal(bytes, File.ReadAllBytes(checkpoint));
        Assert.All(others, other => Assert.True(File.Exists(other), other));
    }
}
