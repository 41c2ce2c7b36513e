namespace CnnService.Contracts;

/// <summary><c>GET /v1/models</c>: every model name with its versions.</summary>
public sealed record ModelList(IReadOnlyList<ModelSummary> Models);

public sealed record ModelSummary(string Name, int? DefaultVersion, IReadOnlyList<VersionStatus> Versions);

/// <summary>A version's state as TF Serving reports it: <c>available</c> (loaded, serving) or <c>failed</c> (with the error).</summary>
public sealed record VersionStatus(int Version, string State, DateTimeOffset? LoadedAt, string? Error);
