using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using CnnService.Protocols.Grpc;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace CnnService.LoadTool;

/// <summary>
/// <c>cnn-load grpc</c>: one prebuilt ModelInferRequest sent by <see cref="GrpcLoadOptions.Concurrency"/> callers,
/// each with one call in flight at a time, over a fixed number of HTTP/2 connections (one GrpcChannel, and so one
/// SocketsHttpHandler with a single connection, each), as ghz's --connections and --concurrency do. A probe call
/// first checks the request is answered; then an unrecorded warm-up; then the measurement.
/// </summary>
internal static class GrpcLoadCommand
{
    /// <summary>Room for this many calls a second in a --duration run: far above what one machine's loopback can do.</summary>
    private const int MaxCallsPerSecond = 50_000;

    public static async Task<int> RunAsync(GrpcLoadOptions options)
    {
        GrpcLoadResult result = await MeasureAsync(options, File.ReadAllBytes(options.RawFile), Console.Error);
        if (result.Summary is not { } summary)
        {
            Console.Error.WriteLine($"cnn-load: the probe call failed, nothing measured: {result.ProbeFailure}");
            return 1;
        }

        Console.Write(options.Json ? summary.ToJson(options) + Environment.NewLine : summary.ToText(options));
        if (result.FirstError is string error) Console.Error.WriteLine($"cnn-load: first failed call: {error}");
        return 0;
    }

    /// <summary>The probe, the warm-up and the measurement, with <paramref name="raw"/> as the input; the probe's answer goes to <paramref name="log"/>.</summary>
    public static async Task<GrpcLoadResult> MeasureAsync(GrpcLoadOptions options, byte[] raw, TextWriter log)
    {
        ModelInferRequest request = BuildRequest(options, raw);
        var channels = new GrpcChannel[options.Connections];
        var clients = new GRPCInferenceService.GRPCInferenceServiceClient[options.Connections];
        for (int i = 0; i < channels.Length; i++)
        {
            channels[i] = OpenChannel(options.Target);
            clients[i] = new GRPCInferenceService.GRPCInferenceServiceClient(channels[i]);
        }

        try
        {
            if (await ProbeAsync(clients[0], request, log) is string failure) return new GrpcLoadResult(null, failure, null);

            var warmup = new LatencyRecorder(1);
            if (options.Warmup > TimeSpan.Zero) await new Run(clients, request, warmup, Deadline(options.Warmup), null).RunAsync(options.Concurrency);

            int capacity = options.Requests ?? (int)Math.Min(int.MaxValue / 2, options.Duration!.Value.TotalSeconds * MaxCallsPerSecond + options.Concurrency);
            var recorder = new LatencyRecorder(capacity);
            var run = new Run(clients, request, recorder, options.Duration is { } d ? Deadline(d) : long.MaxValue, options.Requests);
            using var self = Process.GetCurrentProcess();
            TimeSpan cpuBefore = self.TotalProcessorTime;
            long start = Stopwatch.GetTimestamp();
            await run.RunAsync(options.Concurrency);
            TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
            self.Refresh();
            LoadSummary summary = recorder.Summarise(elapsed) with { ClientCpu = self.TotalProcessorTime - cpuBefore, WarmupCalls = warmup.Calls + 1 };
            return new GrpcLoadResult(summary, null, run.FirstError);
        }
        finally
        {
            foreach (GrpcChannel channel in channels) channel.Dispose();
        }
    }

    /// <summary>The one request every call sends: the file as the input's raw_input_contents, the output asked for by name.</summary>
    public static ModelInferRequest BuildRequest(GrpcLoadOptions options, byte[] raw)
    {
        var input = new ModelInferRequest.Types.InferInputTensor { Name = options.InputName, Datatype = options.Datatype };
        input.Shape.AddRange(options.Shape);
        var request = new ModelInferRequest { ModelName = options.Model, ModelVersion = options.ModelVersion };
        request.Inputs.Add(input);
        request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = options.OutputName });
        request.RawInputContents.Add(ByteString.CopyFrom(raw));
        return request;
    }

    /// <summary>A channel over exactly one HTTP/2 connection without TLS (h2c, prior knowledge), kept open between calls.</summary>
    private static GrpcChannel OpenChannel(string target) =>
        GrpcChannel.ForAddress("http://" + target, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = false,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                ConnectTimeout = TimeSpan.FromSeconds(10),
            },
            DisposeHttpClient = true,
        });

    /// <summary>One call; null when it is answered with an FP32 output, else what went wrong. Prints the answer's top class.</summary>
    private static async Task<string?> ProbeAsync(GRPCInferenceService.GRPCInferenceServiceClient client, ModelInferRequest request, TextWriter log)
    {
        try
        {
            ModelInferResponse response = await client.ModelInferAsync(request, deadline: DateTime.UtcNow.AddSeconds(30));
            if (response.Outputs.Count == 0 || response.RawOutputContents.Count == 0)
                return $"the answer has {response.Outputs.Count} output(s) and {response.RawOutputContents.Count} raw_output_contents; expected one of each.";
            ModelInferResponse.Types.InferOutputTensor output = response.Outputs[0];
            ReadOnlySpan<float> scores = MemoryMarshal.Cast<byte, float>(response.RawOutputContents[0].Span);
            if (output.Datatype != "FP32" || scores.IsEmpty) return $"the output is {output.Datatype} of {response.RawOutputContents[0].Length} bytes; expected FP32 scores.";
            int top = 0;
            for (int i = 1; i < scores.Length; i++) if (scores[i] > scores[top]) top = i;
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"cnn-load: probe answered by {response.ModelName} v{response.ModelVersion}: {output.Name} {output.Datatype} [{string.Join(',', output.Shape)}], top class {top} ({scores[top]:G4})"));
            return null;
        }
        catch (RpcException e)
        {
            return $"{e.StatusCode}: {e.Status.Detail}";
        }
    }

    private static long Deadline(TimeSpan duration) => Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);

    /// <summary>The callers of one phase: until the deadline passes, or until the request budget is used up.</summary>
    private sealed class Run(
        GRPCInferenceService.GRPCInferenceServiceClient[] clients, ModelInferRequest request, LatencyRecorder recorder,
        long deadline, int? budget)
    {
        private int _issued;
        private string? _firstError;

        public string? FirstError => Volatile.Read(ref _firstError);

        public Task RunAsync(int callers)
        {
            var tasks = new Task[callers];
            for (int i = 0; i < callers; i++) tasks[i] = CallerAsync(clients[i % clients.Length]);
            return Task.WhenAll(tasks);
        }

        private async Task CallerAsync(GRPCInferenceService.GRPCInferenceServiceClient client)
        {
            await Task.Yield();   // the callers start together instead of each running its first call inline
            while (true)
            {
                long start = Stopwatch.GetTimestamp();
                if (start >= deadline || (budget is int n && Interlocked.Increment(ref _issued) > n)) return;
                int status = (int)StatusCode.OK;
                try
                {
                    using AsyncUnaryCall<ModelInferResponse> call = client.ModelInferAsync(request);
                    await call.ResponseAsync.ConfigureAwait(false);
                }
                catch (RpcException e)
                {
                    status = (int)e.StatusCode;
                    if (FirstError is null) Interlocked.CompareExchange(ref _firstError, $"{e.StatusCode}: {e.Status.Detail}", null);
                }
                catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
                {
                    status = LatencyRecorder.OtherFailure;
                    if (FirstError is null) Interlocked.CompareExchange(ref _firstError, $"{e.GetType().Name}: {e.Message}", null);
                }

                recorder.Record(Stopwatch.GetTimestamp() - start, status);
            }
        }
    }
}

/// <summary>A run's summary, or why the probe call failed (then nothing was measured); and the first failed call's status.</summary>
internal sealed record GrpcLoadResult(LoadSummary? Summary, string? ProbeFailure, string? FirstError);
