using CnnService.Models;
using CnnService.Protocols.Grpc;
using CnnService.Tests.Support;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CnnService.Tests.Endpoints;

/// <summary>
/// Before the first scan of the models root has loaded anything, the gRPC front door says so: the server is not
/// ready, and inference is UNAVAILABLE (retry later), not NOT_FOUND. The scan is held by leaving the watcher out.
/// </summary>
public sealed class GrpcNotReadyTests : IAsyncLifetime
{
    private readonly ServiceFactory _factory = new();
    private LoadingHost _app = null!;

    private sealed record LoadingHost(IAsyncDisposable App, GrpcChannel Channel, GRPCInferenceService.GRPCInferenceServiceClient Client);

    public Task InitializeAsync()
    {
        var app = _factory.WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
        {
            ServiceDescriptor watcher = services.Single(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(ModelWatcher));
            services.Remove(watcher);
        }));
        GrpcChannel channel = GrpcChannel.ForAddress(app.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = app.Server.CreateHandler() });
        _app = new LoadingHost(app, channel, new GRPCInferenceService.GRPCInferenceServiceClient(channel));
        Assert.False(app.Services.GetRequiredService<ModelRepository>().IsReady);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _app.Channel.Dispose();
        await _app.App.DisposeAsync();
        await _factory.DisposeAsync();
    }

    [Fact]
    public async Task ServerReady_is_false_while_models_are_loading()
    {
        ServerReadyResponse ready = await _app.Client.ServerReadyAsync(new ServerReadyRequest());

        Assert.False(ready.Ready);
    }

    [Fact]
    public async Task ModelInfer_while_models_are_loading_is_UNAVAILABLE()
    {
        var request = new ModelInferRequest
        {
            ModelName = "mnist",
            Inputs = { new ModelInferRequest.Types.InferInputTensor { Name = "input", Datatype = "FP32", Shape = { 1, 1, 28, 28 } } },
            RawInputContents = { ByteString.CopyFrom(new byte[784 * 4]) },
        };

        RpcException refused = await Assert.ThrowsAsync<RpcException>(async () => await _app.Client.ModelInferAsync(request));

        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Contains("still loading", refused.Status.Detail);
    }
}
