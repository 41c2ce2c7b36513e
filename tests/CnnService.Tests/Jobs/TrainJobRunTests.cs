using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text.Json;
using CnnService.Engine.Runtime;
using CnnService.Jobs;
using CnnService.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CnnService.Tests.Jobs;

/// <summary>A job from queued to succeeded: the model it writes, what the publisher is told, what the event stream says.</summary>
public sealed class TrainJobRunTests
{
    [Fact]
    public async Task A_job_trains_writes_the_next_version_and_publishes_it()
    {
        using var folder = new TempFolder();
        await using var host = new JobsHost(folder);
        Directory.CreateDirectory(folder.Combine("models", "digits", "3"));
        Directory.CreateDirectory(folder.Combine("models", "digits", ".7.partial-x"));
        host.Publisher.Hold = new TaskCompletionSource(); // keeps it running, publishing, until released

        TrainJob job = await host.StartAsync(JobBodies.Tiny(("validation_split", 0.25)));
        TrainJob running = await host.WaitForStateAsync(job.Id, TrainJobState.Running);
        host.Publisher.Hold.SetResult();
        TrainJob done = await host.WaitForStateAsync(job.Id, TrainJobState.Succeeded);

        Assert.Equal([TrainJobState.Queued, TrainJobState.Running, TrainJobState.Succeeded], [job.State, running.State, done.State]);
        Assert.Equal(("digits", 4, true), Assert.Single(host.Publisher.Published));
        Assert.Equal(4, done.ModelVersion);
        Assert.Equal((1, 1, 6, 6), (done.Epoch, done.History.Count, done.Step, done.StepsPerEpoch));
        Assert.NotNull(done.History[0].ValidationAccuracy);
        Assert.Equal(done.History[0].ValidationAccuracy, done.ValidationAccuracy);
        Assert.True(done.ImagesPerSecond > 0);
        Assert.True(done.CreatedAt <= done.StartedAt && done.StartedAt <= done.FinishedAt);
        Model model = ModelLoader.Load(folder.Combine("models", "digits", "4"));
        Assert.Equal("digits", model.Spec.Name);
        Assert.Equal(job.Id, (string)model.Spec.Metrics!["train_job"]!);
        Assert.Equal(done.TestAccuracy, (double)model.Spec.Metrics!["test_accuracy"]!);
        Assert.False(File.Exists(Path.Combine(host.JobsRoot, "checkpoints", job.Id + ".ckpt")));
    }

    [Fact]
    public async Task Promote_false_reaches_the_publisher()
    {
        using var folder = new TempFolder();
        await using var host = new JobsHost(folder);

        TrainJob job = await host.StartAsync(JobBodies.Tiny(("promote", false), ("arch", "keras-mnist"), ("dataset", JobBodies.FashionMnistSmall), ("model", "fashion")));
        await host.WaitForStateAsync(job.Id, TrainJobState.Succeeded);

        Assert.Equal(("fashion", 1, false), Assert.Single(host.Publisher.Published));
    }

    [Fact]
    public async Task The_event_stream_sends_every_state_change_and_progress_report_and_ends_with_the_final_state()
    {
        using var folder = new TempFolder();
        await using var host = new JobsHost(folder);
        host.Publisher.Hold = new TaskCompletionSource();
        TrainJob blocker = await host.StartAsync(JobBodies.Tiny());
        await host.Publisher.PublishStarted.Task.WaitAsync(TimeSpan.FromMinutes(1));
        TrainJob job = await host.StartAsync(JobBodies.Tiny(("epochs", 2))); // queued behind the blocker: the stream sees all of it

        using HttpResponseMessage response = await host.Client.GetAsync($"/v1/train-jobs/{job.Id}/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        host.Publisher.Hold.SetResult();
        var events = new List<SseItem<string>>();
        await foreach (SseItem<string> item in SseParser.Create(await response.Content.ReadAsStreamAsync()).EnumerateAsync()) events.Add(item);

        string[] states = events.Where(e => e.EventType == "state").Select(e => JsonDocument.Parse(e.Data).RootElement.GetProperty("state").GetString()!).ToArray();
        Assert.Equal(["queued", "running", "succeeded"], states);
        Assert.Equal("state", events[0].EventType);
        Assert.Equal("state", events[^1].EventType);
        var progress = events.Where(e => e.EventType == "progress").Select(e => JsonSerializer.Deserialize<TrainJobProgress>(e.Data, JobsHost.Json)!).ToList();
        Assert.Equal(2 * 8 + 2, progress.Count); // every step of both epochs, and each epoch's end
        Assert.Equal([1, 2], progress.Where(p => p.EpochSummary is not null).Select(p => p.Epoch));
        Assert.All(progress, p => Assert.Equal((job.Id, 2, 8, 0.001), (p.Id, p.Epochs, p.StepsPerEpoch, p.LearningRate)));
        Assert.Equal(TrainJobState.Succeeded, (await host.GetAsync(blocker.Id)).State);
    }

    [Fact]
    public async Task A_finished_job_streams_its_final_state_and_ends()
    {
        using var folder = new TempFolder();
        await using var host = new JobsHost(folder);
        TrainJob job = await host.StartAsync(JobBodies.Tiny());
        await host.WaitForStateAsync(job.Id, TrainJobState.Succeeded);

        string stream = await host.Client.GetStringAsync($"/v1/train-jobs/{job.Id}/events");

        SseItem<string> only = Assert.Single(SseParser.Create(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(stream))).Enumerate());
        Assert.Equal("state", only.EventType);
        Assert.Equal("succeeded", JsonDocument.Parse(only.Data).RootElement.GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_job_that_cannot_train_fails_with_the_reason()
    {
        using var folder = new TempFolder();
        await using var host = new JobsHost(folder);

        // Batchnorm after a dense layer needs two images a batch; a batch of one passes validation but not the trainer.
        TrainJob job = await host.StartAsync(JobBodies.Tiny(("batch_size", 1), ("arch", System.Text.Json.Nodes.JsonNode.Parse("""
            [ { "type": "flatten" }, { "type": "dense", "name": "fc1", "units": 10 }, { "type": "batchnorm", "name": "bn1" } ]
            """))));
        TrainJob failed = await host.WaitForStateAsync(job.Id, TrainJobState.Failed);

        Assert.Contains("two images", failed.Error, StringComparison.Ordinal);
        Assert.Empty(host.Publisher.Published);
    }

    [Fact]
    public async Task Jobs_are_counted_by_state()
    {
        using var folder = new TempFolder();
        await using var host = new JobsHost(folder);
        TrainJob job = await host.StartAsync(JobBodies.Tiny());
        await host.WaitForStateAsync(job.Id, TrainJobState.Succeeded);

        IReadOnlyDictionary<TrainJobState, int> counts = host.Factory.Services.GetRequiredService<TrainJobManager>().CountByState();

        Assert.Equal(1, counts[TrainJobState.Succeeded]);
        Assert.Equal(Enum.GetValues<TrainJobState>().Length, counts.Count);
        Assert.Equal(1, counts.Values.Sum());
    }
}
