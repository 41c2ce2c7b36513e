using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CnnService.Jobs;
using CnnService.Security;
using CnnService.Tests.Support;

namespace CnnService.Tests.Jobs;

/// <summary>A train job through the whole service: the real model repository publishes and serves its result.</summary>
public sealed class TrainJobEndToEndTests
{
    [Fact]
    public async Task A_job_on_the_fixture_goes_queued_running_succeeded_and_its_new_version_answers_predict()
    {
        using var models = new TempModels();
        models.Add("digits", 1);
        await using var factory = new ServiceFactory(new Dictionary<string, string?>
        {
            ["Models:Root"] = models.Root, [ApiKeyFilter.SettingName] = JobsHost.ApiKey, ["Jobs:Threads"] = "1",
            ["Datasets:Roots:0"] = Fixtures.Root,
        });
        HttpClient client = await factory.ReadyClientAsync();
        client.DefaultRequestHeaders.Add(ApiKeyFilter.HeaderName, JobsHost.ApiKey);

        using HttpResponseMessage created = await client.PostAsJsonAsync("/v1/train-jobs", JobBodies.Tiny(("epochs", 2), ("limit", 1000)));
        TrainJob queued = (await created.Content.ReadFromJsonAsync<TrainJob>(JobsHost.Json))!;
        TrainJob done = await WaitAsync(client, queued.Id);

        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        Assert.Equal(TrainJobState.Queued, queued.State);
        Assert.Equal(TrainJobState.Succeeded, done.State);
        Assert.True(done.StartedAt <= done.FinishedAt);
        Assert.Equal(2, done.ModelVersion);
        Assert.Equal(2, factory.Repository.Models["digits"].Default?.Version);

        using var content = new StringContent(MnistSamples.InstancesBody(0, 1, 2, 3), Encoding.UTF8, "application/json");
        using HttpResponseMessage predicted = await client.PostAsync("/v1/models/digits/predict", content);
        JsonElement body = JsonDocument.Parse(await predicted.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.OK, predicted.StatusCode);
        Assert.Equal(2, body.GetProperty("version").GetInt32());
        Assert.Equal(4, body.GetProperty("predictions").GetArrayLength());
        Assert.Equal(1, (await Scrape.ReadAsync(client)).Sum("cnn_train_jobs", ("state", "succeeded")));
    }

    private static async Task<TrainJob> WaitAsync(HttpClient client, string id)
    {
        for (int i = 0; i < 1200; i++)
        {
            TrainJob job = (await client.GetFromJsonAsync<TrainJob>($"/v1/train-jobs/{id}", JobsHost.Json))!;
            if (!job.State.IsLive()) return job;
            await Task.Delay(50);
        }

        throw new TimeoutException($"Job {id} did not finish within a minute.");
    }
}
