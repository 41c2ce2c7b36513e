using System.Globalization;
using System.Text;
using System.Text.Json;
using Grpc.Core;

namespace CnnService.LoadTool;

/// <summary>A run's result: how many calls in how long, their latency percentiles, and the calls by gRPC status.</summary>
internal sealed record LoadSummary(
    long Calls, TimeSpan Elapsed, double MeanMs, double P50Ms, double P90Ms, double P99Ms, double MaxMs,
    long UnrecordedLatencies, long[] ByStatus)
{
    /// <summary>Every finished call, failed or not, per second of the measured time (as hey and ghz count).</summary>
    public double RequestsPerSecond => Elapsed > TimeSpan.Zero ? Calls / Elapsed.TotalSeconds : 0;

    /// <summary>This process's CPU time (all threads) during the measurement: what the load itself cost the machine.</summary>
    public TimeSpan ClientCpu { get; init; }

    /// <summary>Calls before the measurement (the probe and the warm-up), which the server also answered.</summary>
    public long WarmupCalls { get; init; }

    public double ClientCpuMsPerCall => Calls > 0 ? ClientCpu.TotalMilliseconds / Calls : 0;

    public long Ok => ByStatus[(int)StatusCode.OK];

    public long Errors => Calls - Ok;

    /// <summary>The status name a count is listed under: the gRPC code's name, or "client" for failures without one.</summary>
    public static string StatusName(int status) =>
        status == LatencyRecorder.OtherFailure ? "client" : ((StatusCode)status).ToString();

    public string ToText(GrpcLoadOptions options)
    {
        var text = new StringBuilder();
        CultureInfo c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"Summary: ModelInfer {options.Model} {options.Datatype} [{string.Join(',', options.Shape)}] at {options.Target}, {options.Concurrency} callers over {options.Connections} HTTP/2 connections");
        text.AppendLine(c, $"  Count:        {Calls}");
        text.AppendLine(c, $"  Total:        {Elapsed.TotalSeconds:F2} s");
        text.AppendLine(c, $"  Requests/sec: {RequestsPerSecond:F1}");
        text.AppendLine(c, $"  Client CPU:   {ClientCpu.TotalSeconds:F2} s, {ClientCpuMsPerCall:F3} ms a call ({WarmupCalls} warm-up calls before)");
        text.AppendLine(c, $"Latency (ms):  mean {MeanMs:F2}  p50 {P50Ms:F2}  p90 {P90Ms:F2}  p99 {P99Ms:F2}  max {MaxMs:F2}");
        if (UnrecordedLatencies > 0) text.AppendLine(c, $"  ({UnrecordedLatencies} calls past the latency buffer: counted, latency not kept)");
        text.AppendLine("Status code distribution:");
        for (int s = 0; s < ByStatus.Length; s++)
        {
            if (ByStatus[s] > 0) text.AppendLine(c, $"  [{StatusName(s)}] {ByStatus[s]} responses");
        }

        return text.ToString();
    }

    public string ToJson(GrpcLoadOptions options)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("target", options.Target);
            json.WriteString("model", options.Model);
            json.WriteNumber("connections", options.Connections);
            json.WriteNumber("concurrency", options.Concurrency);
            json.WriteNumber("count", Calls);
            json.WriteNumber("ok", Ok);
            json.WriteNumber("errors", Errors);
            json.WriteNumber("seconds", Math.Round(Elapsed.TotalSeconds, 3));
            json.WriteNumber("rps", Math.Round(RequestsPerSecond, 1));
            json.WriteStartObject("latency_ms");
            json.WriteNumber("mean", Math.Round(MeanMs, 3));
            json.WriteNumber("p50", Math.Round(P50Ms, 3));
            json.WriteNumber("p90", Math.Round(P90Ms, 3));
            json.WriteNumber("p99", Math.Round(P99Ms, 3));
            json.WriteNumber("max", Math.Round(MaxMs, 3));
            json.WriteEndObject();
            json.WriteNumber("unrecorded_latencies", UnrecordedLatencies);
            json.WriteNumber("warmup_count", WarmupCalls);
            json.WriteNumber("client_cpu_seconds", Math.Round(ClientCpu.TotalSeconds, 3));
            json.WriteNumber("client_cpu_ms_per_call", Math.Round(ClientCpuMsPerCall, 4));
            json.WriteStartObject("status");
            for (int s = 0; s < ByStatus.Length; s++)
            {
                if (ByStatus[s] > 0) json.WriteNumber(StatusName(s), ByStatus[s]);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
