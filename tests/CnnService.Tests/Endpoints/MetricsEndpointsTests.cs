using System.Text;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

public sealed class MetricsEndpointsTests
{
    [Fact]
    public async Task Metrics_count_requests_by_route_and_model_and_show_batch_sizes()
    {
        await using var factory = new ServiceFactory();
        HttpClient client = await factory.ReadyClientAsync();
        using var content = new StringContent(MnistSamples.InstancesBody(0, 1, 2), Encoding.UTF8, "application/json");
        (await client.PostAsync("/v1/models/mnist/predict", content)).Dispose();

        string text = await client.GetStringAsync("/metrics");

        Assert.Contains("cnn_http_requests_total{endpoint=\"/v1/models/{name}/predict\",method=\"POST\",status=\"200\",model=\"mnist\"} 1", text);
        Assert.Contains("cnn_batch_size_bucket{model=\"mnist\",le=\"4\"} 1", text);
        Assert.Contains("cnn_batch_size_sum{model=\"mnist\"} 3", text);
        Assert.Contains("cnn_http_request_duration_seconds_count{endpoint=\"/v1/models/{name}/predict\",model=\"mnist\"} 1", text);
        Assert.Contains("cnn_models_loaded{model=\"mnist\"} 2", text);
    }

    [Fact]
    public async Task Made_up_model_names_never_become_labels()
    {
        await using var factory = new ServiceFactory();
        HttpClient client = await factory.ReadyClientAsync();
        (await client.GetAsync("/v1/models/made-up-name")).Dispose();

        string text = await client.GetStringAsync("/metrics");

        Assert.DoesNotContain("made-up-name", text);
        Assert.Contains("cnn_http_requests_total{endpoint=\"/v1/models/{name}\",method=\"GET\",status=\"404\",model=\"\"} 1", text);
    }
}
