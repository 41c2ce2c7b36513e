using CnnService.Hosting;
using CnnService.Metrics;
using CnnService.Models;
using Serilog;

namespace CnnService.Inference;

/// <summary>
/// One request on one model version, from its lease to its answer, whatever the protocol: holds the lease (a hot
/// swap never pulls the version out from under it) and labels the request's metrics and log line with the model
/// once it is found and with what served it once it ran. Made by <see cref="InferenceService.Begin"/>; the adapter
/// disposes it when its answer is built.
/// </summary>
public sealed class ModelCall : IDisposable
{
    private readonly HttpContext _context;
    private readonly ModelLease _lease;
    private readonly IDiagnosticContext? _log;
    private readonly string? _protocol;

    internal ModelCall(HttpContext context, string name, ModelLease lease, string? protocol)
    {
        (_context, Name, _lease, _protocol) = (context, name, lease, protocol);
        // The model label only once the model is found, so made-up names never become metric labels.
        context.Items[RequestMetricsMiddleware.ModelItem] = name;
        _log = context.RequestServices?.GetService<IDiagnosticContext>();
        _log?.Set("Model", name);
        _log?.Set("Version", lease.Version.Version);
    }

    public string Name { get; }

    public ModelVersion Version => _lease.Version;

    public CancellationToken Aborted => _context.RequestAborted;

    /// <summary>Labels the log line with the images run and the batch they rode in (and the protocol, when not /v1).</summary>
    internal void Served(InferenceResult result)
    {
        _log?.Set("Images", result.Count);
        _log?.Set("BatchSize", result.BatchSize);
        string protocol = _protocol is null ? "" : $" ({_protocol})";
        _context.Items[LoggingSetup.ServedItem] = $"{Name} v{Version.Version}, {result.Count} image(s), batch of {result.BatchSize}{protocol}";
    }

    public void Dispose() => _lease.Dispose();
}
