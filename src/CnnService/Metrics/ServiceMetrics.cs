using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace CnnService.Metrics;

/// <summary>
/// The service's Prometheus metrics: requests and their latency per endpoint and model, the batch
/// sizes the dynamic batcher actually ran, the requests shed when a batch queue was full, and gauges (queue lengths, loaded models, train jobs by
/// state) read from their owners at scrape time. Written out in the Prometheus text format 0.0.4.
/// </summary>
public sealed class ServiceMetrics
{
    private static readonly double[] LatencyBounds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private static readonly double[] BatchBounds = [1, 2, 4, 8, 16, 32, 64, 128, 256];

    private readonly ConcurrentDictionary<(string Endpoint, string Method, int Status, string Model), long> _requests = new();
    private readonly ConcurrentDictionary<(string Endpoint, string Model), Histogram> _latency = new();
    private readonly ConcurrentDictionary<string, Histogram> _batches = new();
    private readonly ConcurrentDictionary<string, Gauge> _gauges = new();
    private readonly ConcurrentDictionary<string, long> _shed = new();

    public void ObserveRequest(string endpoint, string method, int status, string? model, double seconds)
    {
        _requests.AddOrUpdate((endpoint, method, status, model ?? ""), 1, (_, n) => n + 1);
        _latency.GetOrAdd((endpoint, model ?? ""), _ => new Histogram(LatencyBounds)).Observe(seconds);
    }

    /// <summary>A request refused with 429 because its model's batch queue was full.</summary>
    public void ObserveShed(string model) => _shed.AddOrUpdate(model, 1, (_, n) => n + 1);

    public void ObserveBatch(string model, int size) => _batches.GetOrAdd(model, _ => new Histogram(BatchBounds)).Observe(size);

    /// <summary>A gauge whose labelled values are read when scraped, so it can never go stale.</summary>
    public void AddGauge(string name, string help, string label, Func<IEnumerable<KeyValuePair<string, double>>> read) =>
        _gauges[name] = new Gauge(help, label, read);

    public string ToPrometheusText()
    {
        var text = new StringBuilder();
        Header(text, "cnn_http_requests_total", "counter", "HTTP requests by endpoint, method, status and model.");
        foreach (var ((endpoint, method, status, model), count) in _requests.OrderBy(kv => kv.Key.ToString(), StringComparer.Ordinal))
            text.Append("cnn_http_requests_total{endpoint=\"").Append(Escape(endpoint)).Append("\",method=\"").Append(method)
                .Append("\",status=\"").Append(status.ToString(CultureInfo.InvariantCulture)).Append("\",model=\"").Append(Escape(model))
                .Append("\"} ").Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');

        Header(text, "cnn_http_request_duration_seconds", "histogram", "HTTP request latency by endpoint and model.");
        foreach (var ((endpoint, model), histogram) in _latency.OrderBy(kv => kv.Key.ToString(), StringComparer.Ordinal))
            WriteHistogram(text, "cnn_http_request_duration_seconds", $"endpoint=\"{Escape(endpoint)}\",model=\"{Escape(model)}\"", histogram);

        Header(text, "cnn_batch_size", "histogram", "Images per forward pass run by the dynamic batcher, by model.");
        foreach ((string model, Histogram histogram) in _batches.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            WriteHistogram(text, "cnn_batch_size", $"model=\"{Escape(model)}\"", histogram);

        Header(text, "cnn_requests_shed_total", "counter", "Requests refused with 429 because the model's batch queue was full, by model.");
        foreach ((string model, long count) in _shed.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            text.Append("cnn_requests_shed_total{model=\"").Append(Escape(model)).Append("\"} ").Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');

        foreach ((string name, Gauge gauge) in _gauges.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            Header(text, name, "gauge", gauge.Help);
            foreach ((string labelValue, double value) in gauge.Read())
                text.Append(name).Append('{').Append(gauge.Label).Append("=\"").Append(Escape(labelValue)).Append("\"} ")
                    .Append(Number(value)).Append('\n');
        }

        return text.ToString();
    }

    private static void Header(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void WriteHistogram(StringBuilder text, string name, string labels, Histogram histogram)
    {
        (long[] cumulative, double sum, long count) = histogram.Read();
        for (int i = 0; i < cumulative.Length; i++)
        {
            string le = i < histogram.Bounds.Count ? Number(histogram.Bounds[i]) : "+Inf";
            text.Append(name).Append("_bucket{").Append(labels).Append(",le=\"").Append(le).Append("\"} ")
                .Append(cumulative[i].ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        text.Append(name).Append("_sum{").Append(labels).Append("} ").Append(Number(sum)).Append('\n');
        text.Append(name).Append("_count{").Append(labels).Append("} ").Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    private sealed record Gauge(string Help, string Label, Func<IEnumerable<KeyValuePair<string, double>>> Read);
}
