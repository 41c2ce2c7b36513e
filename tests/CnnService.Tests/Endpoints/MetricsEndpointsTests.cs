using System.Text;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

/// <summary>
/// <c>/metrics</c>: what a Triton or TorchServe user reads, per model and version (requests by outcome, images,
/// queue and compute time, batch sizes), with ASP.NET Core's and the runtime's own meters beside them.
/// </summary>
public sealed class MetricsEndpointsTests
{
    private static Task<HttpResponseMessage> PredictAsync(HttpClient client, string body, string contentType = "application/json") =>
        client.PostAsync("/v1/models/mnist/predict", new StringContent(body, Encoding.UTF8, contentType));

    [Fact]
    public async Task A_served_request_is_counted_by_model_version_protocol_and_outcome_with_its_images()
    {
        await using var factory = new ServiceFactory();
        HttpClient client = await factory.ReadyClientAsync();
        (await PredictAsync(client, MnistSamples.InstancesBody(0, 1, 2))).Dispose();

        Scrape metrics = await Scrape.ReadAsync(client);

        (string, string)[] served = [("model", "mnist"), ("version", "2"), ("protocol", "v1")];
        Assert.Equal(1, metrics.Sum("cnn_inference_requests_total", [.. served, ("outcome", "success")]));
        Assert.Equal(0, metrics.Sum("cnn_inference_requests_total", [.. served, ("outcome", "failure")]));
        Assert.Equal(3, metrics.Sum("cnn_inference_images_total", served));
        Assert.Equal(1, metrics.Sum("cnn_inference_request_duration_seconds_count", served));
    }

    [Fact]
    public async Task A_served_request_shows_its_queue_and_compute_time_and_the_batch_it_rode_in()
    {
        await using var factory = new ServiceFactory();
        HttpClient client = await factory.ReadyClientAsync();
        (await PredictAsync(client, MnistSamples.InstancesBody(0, 1, 2))).Dispose();

        Scrape metrics = await Scrape.ReadAsync(client);

        (string, string)[] version = [("model", "mnist"), ("version", "2")];
        Assert.Equal(1, metrics.Sum("cnn_inference_queue_duration_seconds_count", version));
        Assert.Equal(1, metrics.Sum("cnn_inference_compute_duration_seconds_count", version));
        Assert.True(metrics.Sum("cnn_inference_compute_duration_seconds_sum", version) > 0);
        Assert.Equal(1, metrics.Sum("cnn_batch_size_count", version));
        Assert.Equal(3, metrics.Sum("cnn_batch_size_sum", version));
        Assert.Equal(1, metrics.Sum("cnn_batch_size_bucket", [.. version, ("le", "4")]));
        Assert.Equal(0, metrics.Sum("cnn_batch_size_bucket", [.. version, ("le", "2")]));
    }

    [Fact]
    public async Task A_refused_request_for_a_found_model_is_counted_as_a_failure()
    {
        await using var factory = new ServiceFactory();
        HttpClient client = await factory.ReadyClientAsync();
        using HttpResponseMessage refused = await PredictAsync(client, "not an image", "image/png");
        (string, string)[] route = [("http_route", "/v1/models/{name}/predict"), ("http_response_status_code", ((int)refused.StatusCode).ToString())];

        Scrape metrics = await Scrape.UntilAsync(client, 1, "http_server_request_duration_seconds_count", route);

        Assert.Equal(1, metrics.Sum("cnn_inference_requests_total", ("model", "mnist"), ("outcome", "failure")));
        Assert.Equal(0, metrics.Sum("cnn_inference_requests_total", ("model", "mnist"), ("outcome", "success")));
        Assert.Equal(1, metrics.Sum("http_server_request_duration_seconds_count", route));
        Assert.False(refused.IsSuccessStatusCode);
    }

    [Fact]
    public async Task Made_up_model_names_never_become_labels()
    {
        await using var factory = new ServiceFactory();
        HttpClient client = await factory.ReadyClientAsync();
        (await client.GetAsync("/v1/models/made-up-name")).Dispose();
        (await client.PostAsync("/v1/models/made-up-name/predict", new StringContent(MnistSamples.InstancesBody(0), Encoding.UTF8, "application/json"))).Dispose();
        (string, string)[] notFound = [("http_route", "/v1/models/{name}"), ("http_response_status_code", "404")];

        Scrape metrics = await Scrape.UntilAsync(client, 1, "http_server_request_duration_seconds_count", notFound);

        Assert.DoesNotContain("made-up-name", metrics.Text);
        Assert.Equal(1, metrics.Sum("http_server_request_duration_seconds_count", notFound));
    }

    [Fact]
    public async Task Gauges_show_the_versions_loaded_and_the_requests_queued()
    {
        await using var factory = new ServiceFactory();
        HttpClient client = await factory.ReadyClientAsync();

        Scrape metrics = await Scrape.ReadAsync(client);

        Assert.Equal(2, metrics.Sum("cnn_models_loaded", ("model", "mnist")));
        Assert.Equal(1, metrics.Sum("cnn_models_loaded", ("model", "fashion-mnist")));
        Assert.Contains("cnn_batch_queue_length{", metrics.Text);
        Assert.Equal(0, metrics.Sum("cnn_batch_queue_length", ("model", "mnist"), ("version", "2")));
        Assert.Equal(0, metrics.Sum("cnn_train_jobs", ("state", "running")));
    }

    [Fact]
    public async Task The_runtime_process_and_http_server_meters_are_exported_beside_the_service_own()
    {
        await using var factory = new ServiceFactory();
        HttpClient client = await factory.ReadyClientAsync();
        (await client.GetAsync("/health/live")).Dispose();
        (string, string)[] live = [("http_route", "/health/live"), ("http_response_status_code", "200")];

        Scrape metrics = await Scrape.UntilAsync(client, 1, "http_server_request_duration_seconds_count", live);

        Assert.True(metrics.Sum("dotnet_process_cpu_time_seconds_total") > 0);
        Assert.True(metrics.Sum("dotnet_process_memory_working_set_bytes") > 0);
        Assert.Contains("dotnet_gc_collections_total", metrics.Text);
        Assert.Equal(1, metrics.Sum("http_server_request_duration_seconds_count", live));
    }

    [Fact]
    public async Task Each_host_counts_only_its_own_requests()
    {
        await using var busy = new ServiceFactory();
        await using var idle = new ServiceFactory();
        HttpClient busyClient = await busy.ReadyClientAsync(), idleClient = await idle.ReadyClientAsync();
        (await PredictAsync(busyClient, MnistSamples.InstancesBody(0))).Dispose();

        Scrape metrics = await Scrape.ReadAsync(idleClient);

        Assert.Equal(0, metrics.Sum("cnn_inference_requests_total"));
        Assert.Equal(0, metrics.Sum("http_server_request_duration_seconds_count", ("http_route", "/v1/models/{name}/predict")));
    }
}
