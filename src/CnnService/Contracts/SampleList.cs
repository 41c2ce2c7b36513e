namespace CnnService.Contracts;

/// <summary><c>GET /v1/models/{name}/samples</c>: images to try the model with, and their true labels when known.</summary>
public sealed record SampleList(string Model, IReadOnlyList<SampleImage> Samples);

public sealed record SampleImage(string Name, string? Label, string Url);
