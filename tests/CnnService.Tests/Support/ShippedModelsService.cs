namespace CnnService.Tests.Support;

/// <summary>One service over the shipped models, shared by a test class whose tests only read.</summary>
public sealed class ShippedModelsService : IAsyncLifetime
{
    public ServiceFactory Factory { get; } = new();

    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync() => Client = await Factory.ReadyClientAsync();

    public async Task DisposeAsync() => await Factory.DisposeAsync();
}
