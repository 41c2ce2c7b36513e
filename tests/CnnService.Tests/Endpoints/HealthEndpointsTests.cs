using System.Net;
using System.Text.Json;
using CnnService.Jobs;
using CnnService.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CnnService.Tests.Endpoints;

public sealed class HealthEndpointsTests
{
    [Fact]
    public async Task Live_answers_while_the_process_runs()
    {
        await using var factory = new ServiceFactory();
        using HttpResponseMessage response = await factory.CreateClient().GetAsync("/health/live");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("live", body.GetProperty("status").GetString());
        Assert.Equal(["process:healthy"], Checks(body));
    }

    [Fact]
    public async Task Ready_answers_once_every_model_is_loaded_and_warm()
    {
        await using var factory = new ServiceFactory();
        HttpClient client = await factory.ReadyClientAsync();

        using HttpResponseMessage response = await client.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("ready", body.GetProperty("status").GetString());
        Assert.Equal(2, body.GetProperty("models").GetInt32());
        Assert.Equal(["models:healthy", "job_store:healthy", "checkpoint_disk:healthy"], Checks(body));
    }

    private static string[] Checks(JsonElement body) =>
        body.GetProperty("checks").EnumerateArray().Select(c => $"{c.GetProperty("name").GetString()}:{c.GetProperty("status").GetString()}").ToArray();

    private static async Task<JsonElement> ReadyAnswer503Async(HttpClient client)
    {
        using HttpResponseMessage response = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        JsonElement body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("unhealthy", body.GetProperty("status").GetString());
        return body;
    }

    private static string Description(JsonElement body, string check) =>
        body.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == check).GetProperty("description").GetString()!;

    [Fact]
    public async Task Ready_fails_while_the_job_store_folder_cannot_be_written()
    {
        using var temp = new TempFolder();
        string jobs = temp.Combine("jobs");
        await using var factory = new ServiceFactory(new Dictionary<string, string?> { ["Jobs:Root"] = jobs });
        HttpClient client = await factory.ReadyClientAsync();
        factory.Services.GetRequiredService<TrainJobStore>();  // opened on a writable folder, as at start-up
        Directory.Delete(jobs, recursive: true);
        File.WriteAllText(jobs, "a file where the job store's folder was");  // unwritable even for root

        JsonElement body = await ReadyAnswer503Async(client);

        Assert.Equal(["models:healthy", "job_store:unhealthy", "checkpoint_disk:healthy"], Checks(body));
        Assert.Contains("cannot be written", Description(body, "job_store"));
        using HttpResponseMessage live = await client.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Fact]
    public async Task Ready_fails_when_free_disk_for_checkpoints_is_below_the_threshold()
    {
        await using var factory = new ServiceFactory(new Dictionary<string, string?> { ["Health:MinFreeDiskMegabytes"] = "1000000000000" });
        HttpClient client = await factory.ReadyClientAsync();

        JsonElement body = await ReadyAnswer503Async(client);

        Assert.Equal(["models:healthy", "job_store:healthy", "checkpoint_disk:unhealthy"], Checks(body));
        Assert.Contains("at least 1,000,000,000,000 MB wanted", Description(body, "checkpoint_disk"));
    }

    [Fact]
    public async Task Root_serves_the_explain_page_and_swagger_ui_serves_the_openapi_document()
    {
        await using var factory = new ServiceFactory();
        HttpClient client = factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        using HttpResponseMessage root = await client.GetAsync("/");
        using HttpResponseMessage ui = await client.GetAsync("/swagger/index.html");
        string document = await client.GetStringAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        Assert.Equal("text/html", root.Content.Headers.ContentType?.MediaType);
        Assert.Contains("id=\"draw-canvas\"", await root.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
        JsonElement paths = JsonDocument.Parse(document).RootElement.GetProperty("paths");
        JsonElement predict = paths.GetProperty("/v1/models/{name}/predict").GetProperty("post");
        Assert.True(predict.GetProperty("requestBody").GetProperty("content").TryGetProperty("multipart/form-data", out _));
        Assert.True(predict.GetProperty("requestBody").GetProperty("content").TryGetProperty("image/png", out _));
        JsonElement explain = paths.GetProperty("/v1/models/{name}/explain").GetProperty("post");
        Assert.True(explain.GetProperty("requestBody").GetProperty("content").TryGetProperty("multipart/form-data", out _));
        Assert.Contains(explain.GetProperty("parameters").EnumerateArray(), p => p.GetProperty("name").GetString() == "layer");
        Assert.True(paths.TryGetProperty("/v1/models/{name}/filters/{layer}.png", out _));
    }
}
