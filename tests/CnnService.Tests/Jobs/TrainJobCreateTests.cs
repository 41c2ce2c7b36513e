using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CnnService.Jobs;
using CnnService.Security;
using CnnService.Tests.Support;

namespace CnnService.Tests.Jobs;

/// <summary>POST /v1/train-jobs: what is accepted, what is refused and why, and who may ask.</summary>
public sealed class TrainJobCreateTests
{
    [Fact]
    public async Task Creating_a_job_answers_202_with_its_location_and_its_record()
    {
        using var folder = new TempFolder();
        await using var host = new JobsHost(folder);

        using HttpResponseMessage response = await host.CreateAsync(JobBodies.Tiny());

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        TrainJob job = (await response.Content.ReadFromJsonAsync<TrainJob>(JobsHost.Json))!;
        Assert.Equal($"/v1/train-jobs/{job.Id}", response.Headers.Location?.OriginalString);
        Assert.Contains(job.State, new[] { TrainJobState.Queued, TrainJobState.Running });
        Assert.Equal(("digits", 1, 32, "adam", 0.001, true), (job.Settings.Model, job.Settings.Epochs, job.Settings.BatchSize, job.Settings.Optimizer, job.Settings.LearningRate, job.Settings.Promote));
        Assert.Equal(job.Id, (await host.GetAsync(job.Id)).Id);
    }

    [Fact]
    public async Task The_record_is_snake_case_json_with_the_state_as_a_word()
    {
        using var folder = new TempFolder();
        await using var host = new JobsHost(folder);

        using HttpResponseMessage response = await host.CreateAsync(JobBodies.Tiny());

        JsonElement job = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(job.GetProperty("state").GetString() is "queued" or "running");
        Assert.Equal(32, job.GetProperty("settings").GetProperty("batch_size").GetInt32());
        Assert.Equal(JsonValueKind.Array, job.GetProperty("settings").GetProperty("arch").ValueKind);
        Assert.True(job.TryGetProperty("created_at", out _));
    }

    public static TheoryData<string, string, string> InvalidFields => new()
    {
        // field, JSON value, a word of the message
        { "model", "\"../etc\"", "a-z" },
        { "model", "\"Digits\"", "a-z" },
        { "arch", "\"resnet\"", "Unknown architecture" },
        { "arch", "42", "layer objects" },
        { "dataset", "\"imagenet\"", "No dataset" },
        { "dataset", "\"/no/such/dir\"", "No dataset" },
        { "epochs", "0", "1 to 1000" },
        { "epochs", "1001", "1 to 1000" },
        { "batch_size", "4097", "1 to 4096" },
        { "optimizer", "\"rmsprop\"", "adam or sgd" },
        { "learning_rate", "0", "above 0" },
        { "learning_rate", "-0.1", "above 0" },
        { "limit", "0", "at least 1" },
        { "seed", "-1", "negative" },
        { "validation_split", "0.9", "0 to 0.5" },
        { "threads", "0", "1 to" },
        { "schedule", "\"linear\"", "cosine" },
        { "augment_shift", "9", "0 to 8" },
        { "epochs", "\"five\"", "an integer" },
        { "promote", "\"yes\"", "true or false" },
        { "batchsize", "64", "Unknown field" },
    };

    [Theory]
    [MemberData(nameof(InvalidFields))]
    public async Task An_invalid_field_is_a_400_validation_problem_naming_it(string field, string value, string message)
    {
        using var folder = new TempFolder();
        await using var host = new JobsHost(folder);

        using HttpResponseMessage response = await host.CreateAsync(JobBodies.Tiny((field, JsonNode.Parse(value))));

        string error = await AssertValidationProblemAsync(response, field);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("model")]
    [InlineData("arch")]
    [InlineData("dataset")]
    public async Task A_missing_required_field_is_a_400_naming_it(string field)
    {
        using var folder = new TempFolder();
        await using var host = new JobsHost(folder);

        using HttpResponseMessage response = await host.CreateAsync(JobBodies.Tiny((field, null)));

        Assert.Contains("Required", await AssertValidationProblemAsync(response, field), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_layer_list_is_refused_with_the_engine_message()
    {
        using var folder = new TempFolder();
        await using var host = new JobsHost(folder);

        using HttpResponseMessage response = await host.CreateAsync(JobBodies.Tiny(("arch", JsonNode.Parse("""[ { "type": "relu" }, { "type": "warp" } ]"""))));

        Assert.StartsWith("arch: layer 1", await AssertValidationProblemAsync(response, "arch"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_network_that_does_not_fit_the_dataset_is_refused()
    {
        using var folder = new TempFolder();
        await using var host = new JobsHost(folder);

        using HttpResponseMessage response = await host.CreateAsync(JobBodies.Tiny(("arch", "tinyvgg")));

        Assert.Contains("[3,64,64]", await AssertValidationProblemAsync(response, "arch"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_a_400_problem()
    {
        using var folder = new TempFolder();
        await using var host = new JobsHost(folder);

        using HttpResponseMessage response = await host.Client.PostAsync("/v1/train-jobs", new StringContent("{ \"model\": ", System.Text.Encoding.UTF8, "application/json"));

        await AssertValidationProblemAsync(response, "body");
    }

    [Fact]
    public async Task An_unknown_id_is_a_404_problem_everywhere()
    {
        using var folder = new TempFolder();
        await using var host = new JobsHost(folder);

        foreach (HttpResponseMessage response in new[]
        {
            await host.Client.GetAsync("/v1/train-jobs/nope"), await host.Client.GetAsync("/v1/train-jobs/nope/events"),
            await host.PostAsync("nope", "cancel"), await host.PostAsync("nope", "resume"),
        })
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            response.Dispose();
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key")]
    public async Task Management_calls_without_the_right_api_key_are_401_problems(string? key)
    {
        using var folder = new TempFolder();
        await using var host = new JobsHost(folder);
        using HttpClient client = host.Factory.CreateClient();
        if (key is not null) client.DefaultRequestHeaders.Add(ApiKeyFilter.HeaderName, key);

        foreach (HttpResponseMessage response in new[]
        {
            await client.PostAsJsonAsync("/v1/train-jobs", JobBodies.Tiny()), await client.PostAsync("/v1/train-jobs/x/cancel", null),
            await client.PostAsync("/v1/train-jobs/x/resume", null),
        })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            response.Dispose();
        }

        Assert.Empty(await host.Client.GetFromJsonAsync<TrainJob[]>("/v1/train-jobs", JobsHost.Json) ?? []);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key")]
    public async Task Reading_jobs_without_the_right_api_key_is_a_401_problem_that_shows_nothing_of_them(string? key)
    {
        using var folder = new TempFolder();
        await using var host = new JobsHost(folder);
        TrainJob job = await host.StartAsync(JobBodies.Tiny());
        using HttpClient client = host.Factory.CreateClient();
        if (key is not null) client.DefaultRequestHeaders.Add(ApiKeyFilter.HeaderName, key);

        foreach (string path in new[] { "/v1/train-jobs", $"/v1/train-jobs/{job.Id}", $"/v1/train-jobs/{job.Id}/events" })
        {
            using HttpResponseMessage response = await client.GetAsync(path);
            string body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{path}: {(int)response.StatusCode} {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.DoesNotContain(job.Id, body, StringComparison.Ordinal);
            Assert.DoesNotContain(JobBodies.MnistSmall, body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Reading_jobs_with_the_api_key_shows_them()
    {
        using var folder = new TempFolder();
        await using var host = new JobsHost(folder);
        TrainJob job = await host.StartAsync(JobBodies.Tiny());

        TrainJob[] jobs = (await host.Client.GetFromJsonAsync<TrainJob[]>("/v1/train-jobs", JobsHost.Json))!;

        Assert.Equal(job.Id, Assert.Single(jobs).Id);
    }

    /// <summary>Asserts a 400 problem+json whose errors name <paramref name="field"/>; returns the field's first message.</summary>
    private static async Task<string> AssertValidationProblemAsync(HttpResponseMessage response, string field)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        JsonElement errors = JsonDocument.Parse(body).RootElement.GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out JsonElement messages), body);
        return messages[0].GetString()!;
    }
}
