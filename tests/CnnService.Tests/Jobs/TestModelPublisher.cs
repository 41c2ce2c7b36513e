using System.Collections.Concurrent;
using CnnService.Engine.Runtime;
using CnnService.Jobs;

namespace CnnService.Tests.Jobs;

/// <summary>
/// Stands in for the model repository: loads each version it is given (so "throws if it cannot be
/// loaded" holds), records the call, and, while <see cref="Hold"/> is set, keeps the job publishing
/// (still running) until the test releases it.
/// </summary>
public sealed class TestModelPublisher(string root) : IModelPublisher
{
    public string Root { get; } = root;

    public ConcurrentQueue<(string Name, int Version, bool Promote)> Published { get; } = new();

    /// <summary>When set, publishing waits for it: the job stays running for as long as the test wants.</summary>
    public TaskCompletionSource? Hold { get; set; }

    /// <summary>Completes when a job starts publishing.</summary>
    public TaskCompletionSource PublishStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task PublishAsync(string name, int version, bool promote, CancellationToken cancellationToken)
    {
        ModelLoader.Load(ModelVersions.DirectoryOf(Root, name, version), EngineOptions.Default with { Threads = 1 });
        PublishStarted.TrySetResult();
        if (Hold is TaskCompletionSource hold) await hold.Task.WaitAsync(cancellationToken);
        Published.Enqueue((name, version, promote));
    }
}
