using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CnnService.Jobs;
using CnnService.Tests.Support;

namespace CnnService.Tests.Jobs;

/// <summary>Canceling, and the queue that holds jobs back while another runs.</summary>
public sealed class TrainJobCancelTests
{
    [Fact]
    public async Task Canceling_a_running_job_stops_the_trainer_and_ends_it_canceled()
    {
        using var folder = new TempFolder();
        await using var host = new JobsHost(folder);
        TrainJob job = await host.StartAsync(JobBodies.Long());
        await host.WaitForAsync(job.Id, j => j.State == TrainJobState.Running && j.Epoch >= 1);

        using HttpResponseMessage response = await host.PostAsync(job.Id, "cancel");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<TrainJob>(JobsHost.Json))!.CancelRequested);
        TrainJob canceled = await host.WaitForStateAsync(job.Id, TrainJobState.Canceled);
        Assert.True(canceled.Epoch < 1000);
        Assert.Null(canceled.Error);
        Assert.NotNull(canceled.FinishedAt);
        Assert.Empty(host.Publisher.Published);
        Assert.True(File.Exists(Path.Combine(host.JobsRoot, "checkpoints", job.Id + ".ckpt")));
    }

    [Fact]
    public async Task Canceling_a_finished_job_is_a_409_problem()
    {
        using var folder = new TempFolder();
        await using var host = new JobsHost(folder);
        TrainJob job = await host.StartAsync(JobBodies.Tiny());
        await host.WaitForStateAsync(job.Id, TrainJobState.Succeeded);

        using HttpResponseMessage response = await host.PostAsync(job.Id, "cancel");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("succeeded", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString());
        Assert.Equal(TrainJobState.Succeeded, (await host.GetAsync(job.Id)).State);
    }

    [Fact]
    public async Task With_concurrency_one_a_second_job_waits_queued_while_the_first_runs_and_can_be_canceled_at_once()
    {
        using var folder = new TempFolder();
        await using var host = new JobsHost(folder, ("Jobs:Concurrency", "1"));
        host.Publisher.Hold = new TaskCompletionSource();
        TrainJob first = await host.StartAsync(JobBodies.Tiny());
        await host.Publisher.PublishStarted.Task.WaitAsync(TimeSpan.FromMinutes(1));

        TrainJob second = await host.StartAsync(JobBodies.Tiny());
        TrainJob third = await host.StartAsync(JobBodies.Tiny());
        await Task.Delay(200);

        Assert.Equal(TrainJobState.Running, (await host.GetAsync(first.Id)).State);
        Assert.Equal(TrainJobState.Queued, (await host.GetAsync(second.Id)).State);
        using HttpResponseMessage cancel = await host.PostAsync(third.Id, "cancel");
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal(TrainJobState.Canceled, (await cancel.Content.ReadFromJsonAsync<TrainJob>(JobsHost.Json))!.State);

        host.Publisher.Hold.SetResult();
        await host.WaitForStateAsync(first.Id, TrainJobState.Succeeded);
        await host.WaitForStateAsync(second.Id, TrainJobState.Succeeded);
        Assert.Equal([1, 2], host.Publisher.Published.Select(p => p.Version));
        Assert.Equal(TrainJobState.Canceled, (await host.GetAsync(third.Id)).State);
        Assert.Null((await host.GetAsync(third.Id)).StartedAt);
    }

    [Fact]
    public async Task A_job_publishing_its_model_can_no_longer_be_canceled()
    {
        using var folder = new TempFolder();
        await using var host = new JobsHost(folder);
        host.Publisher.Hold = new TaskCompletionSource();
        TrainJob job = await host.StartAsync(JobBodies.Tiny());
        await host.Publisher.PublishStarted.Task.WaitAsync(TimeSpan.FromMinutes(1));

        using HttpResponseMessage response = await host.PostAsync(job.Id, "cancel");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        host.Publisher.Hold.SetResult();
        await host.WaitForStateAsync(job.Id, TrainJobState.Succeeded);
    }
}
