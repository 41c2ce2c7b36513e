namespace CnnService.Models;

/// <summary>A request's hold on a model version: the version stays loaded until every lease is disposed.</summary>
public readonly struct ModelLease(ModelVersion version) : IDisposable
{
    public ModelVersion Version { get; } = version;

    public void Dispose() => Version.Release();
}
