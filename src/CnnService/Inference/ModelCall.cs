using System.Diagnostics;
using CnnService.Hosting;
using CnnService.Metrics;
using CnnService.Models;
using Serilog;

namespace CnnService.Inference;

/// <summary>
/// One request on one model version, from its lease to its answer, whatever the protocol: holds the lease (a hot
/// swap never pulls the version out from under it) and labels the request's log line with the model once it is
/// found and with what served it once it ran. An inference call (<see cref="InferenceService.BeginInference"/>) is
/// counted when disposed: a success once served, else a failure, whatever refused it (a bad input, a full queue).
/// Made by <see cref="InferenceService"/>; the adapter disposes it when its answer is built.
/// </summary>
public sealed class ModelCall : IDisposable
{
    private readonly HttpContext _context;
    private readonly ModelLease _lease;
    private readonly IDiagnosticContext? _log;
    private readonly InferenceProtocol _protocol;
    private readonly InferenceMetrics? _metrics;
    private readonly long _started = Stopwatch.GetTimestamp();
    private bool _served, _disposed;

    /// <param name="metrics">Null for a call that only reads the model (metadata, explain): it is not counted.</param>
    internal ModelCall(HttpContext context, string name, ModelLease lease, InferenceProtocol protocol, InferenceMetrics? metrics)
    {
        (_context, Name, _lease, _protocol, _metrics) = (context, name, lease, protocol, metrics);
        _log = context.RequestServices?.GetService<IDiagnosticContext>();
        _log?.Set("Model", name);
        _log?.Set("Version", lease.Version.Version);
    }

    public string Name { get; }

    public ModelVersion Version => _lease.Version;

    public InferenceProtocol Protocol => _protocol;

    public CancellationToken Aborted => _context.RequestAborted;

    /// <summary>Counts the request served and labels the log line with the images run and the batch they rode in.</summary>
    internal void Served(InferenceResult result)
    {
        _served = true;
        _metrics?.Served(Version, _protocol, result.Count, result.Batch, _started);
        _log?.Set("Images", result.Count);
        _log?.Set("BatchSize", result.BatchSize);
        string protocol = _protocol.LogNote() is { } note ? $" ({note})" : "";
        _context.Items[LoggingSetup.ServedItem] = $"{Name} v{Version.Version}, {result.Count} image(s), batch of {result.BatchSize}{protocol}";
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_served) _metrics?.Failed(Version, _protocol, _started);
        _lease.Dispose();
    }
}
