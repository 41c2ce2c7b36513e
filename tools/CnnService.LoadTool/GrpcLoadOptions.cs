using System.Globalization;

namespace CnnService.LoadTool;

/// <summary>What <c>cnn-load grpc</c> sends, to where, and for how long (see Program.cs for the syntax).</summary>
internal sealed record GrpcLoadOptions
{
    private static readonly HashSet<string> Valued =
    [
        "--target", "--raw", "--model", "--model-version", "--datatype", "--shape", "--input", "--output",
        "--connections", "--concurrency", "--duration", "--requests", "--warmup",
    ];

    private static readonly HashSet<string> Flags = ["--json"];

    /// <summary>host:port of the h2c gRPC listener (http:// is implied).</summary>
    public required string Target { get; init; }

    /// <summary>The file sent as the one input's raw_input_contents.</summary>
    public required string RawFile { get; init; }

    public string Model { get; init; } = "mnist";

    /// <summary>Empty: the model's default version.</summary>
    public string ModelVersion { get; init; } = "";

    public string Datatype { get; init; } = "UINT8";

    public long[] Shape { get; init; } = [1, 1, 28, 28];

    public string InputName { get; init; } = "input";

    public string OutputName { get; init; } = "output";

    /// <summary>HTTP/2 connections, one GrpcChannel each.</summary>
    public int Connections { get; init; } = 32;

    /// <summary>Callers, each with a call in flight at all times, spread round-robin over the connections.</summary>
    public int Concurrency { get; init; } = 32;

    /// <summary>Measure for this long (calls in flight at the end still finish and count) ...</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>... or for exactly this many calls.</summary>
    public int? Requests { get; init; }

    /// <summary>Calls before the measurement (JIT, connections, the server's pools), not recorded.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(1);

    public bool Json { get; init; }

    public static GrpcLoadOptions Parse(string[] args)
    {
        Dictionary<string, string?> o = CommandLine.Read(args, Valued, Flags);
        string Required(string name) => o.TryGetValue(name, out string? v) && !string.IsNullOrEmpty(v) ? v : throw new UsageException($"{name} is required.");

        int connections = o.TryGetValue("--connections", out string? c) ? CommandLine.PositiveInt("--connections", c!) : 32;
        TimeSpan? duration = o.TryGetValue("--duration", out string? d) ? CommandLine.Duration("--duration", d!) : null;
        int? requests = o.TryGetValue("--requests", out string? r) ? CommandLine.PositiveInt("--requests", r!) : null;
        if (duration is null == requests is null) throw new UsageException("give one of --duration and --requests.");
        if (duration <= TimeSpan.Zero) throw new UsageException("--duration must be more than 0.");
        string target = Required("--target");
        if (target.Contains("://", StringComparison.Ordinal)) throw new UsageException($"--target is host:port, without a scheme (h2c is implied): \"{target}\".");

        return new GrpcLoadOptions
        {
            Target = target,
            RawFile = Required("--raw"),
            Model = o.GetValueOrDefault("--model") ?? "mnist",
            ModelVersion = o.GetValueOrDefault("--model-version") ?? "",
            Datatype = o.GetValueOrDefault("--datatype") ?? "UINT8",
            Shape = o.TryGetValue("--shape", out string? s) ? ParseShape(s!) : [1, 1, 28, 28],
            InputName = o.GetValueOrDefault("--input") ?? "input",
            OutputName = o.GetValueOrDefault("--output") ?? "output",
            Connections = connections,
            Concurrency = o.TryGetValue("--concurrency", out string? n) ? CommandLine.PositiveInt("--concurrency", n!) : connections,
            Duration = duration,
            Requests = requests,
            Warmup = o.TryGetValue("--warmup", out string? w) ? CommandLine.Duration("--warmup", w!) : TimeSpan.FromSeconds(1),
            Json = o.ContainsKey("--json"),
        };
    }

    private static long[] ParseShape(string value)
    {
        string[] parts = value.Split(',');
        var shape = new long[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!long.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]) || shape[i] <= 0)
                throw new UsageException($"--shape is positive sizes separated by commas, such as 1,1,28,28, not \"{value}\".");
        }

        return shape;
    }
}
