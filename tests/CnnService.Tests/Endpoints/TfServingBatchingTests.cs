using System.Net;
using System.Text;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

/// <summary>TensorFlow Serving requests go through the same dynamic batcher as /v1 predict: the protocols share batches.</summary>
public sealed class TfServingBatchingTests
{
    [Fact]
    public async Task A_tf_serving_request_and_a_v1_request_for_one_version_share_a_batch()
    {
        await using var factory = new ServiceFactory();
        HttpClient client = await factory.ReadyClientAsync();
        var gate = new BatcherGate(factory, "mnist");
        Task<HttpResponseMessage> first = Post(client, "/v1/models/mnist/predict", 0);
        await gate.Held;
        Task<HttpResponseMessage> tf = Post(client, "/v1/models/mnist:predict", 1);
        Task<HttpResponseMessage> v1 = Post(client, "/v1/models/mnist/predict", 2);
        await gate.QueuedAsync(2);

        gate.Release();

        foreach (HttpResponseMessage response in await Task.WhenAll(first, tf, v1))
            using (response) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Scrape metrics = await Scrape.ReadAsync(client);
        Assert.Equal(2, metrics.Sum("cnn_batch_size_count", ("model", "mnist")));  // the held one, then the other two together
        Assert.Equal(3, metrics.Sum("cnn_batch_size_sum", ("model", "mnist")));
    }

    private static Task<HttpResponseMessage> Post(HttpClient client, string path, int digit) =>
        client.PostAsync(path, new StringContent(MnistSamples.InstancesBody(digit), Encoding.UTF8, "application/json"));
}
