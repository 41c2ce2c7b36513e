using System.Text.Json.Nodes;

namespace CnnService.Contracts;

/// <summary><c>GET /v1/models/{name}</c> and <c>.../versions/{version}</c>: everything about one loaded version.</summary>
public sealed record ModelDetails(
    string Name,
    int Version,
    bool IsDefault,
    string? Description,
    InputDetails Input,
    IReadOnlyList<string> Labels,
    IReadOnlyList<LayerRow> Layers,
    long TotalParameters,
    double Mflops,
    JsonObject? Metrics,
    string WeightsSha256,
    DateTimeOffset LoadedAt);

/// <summary>The input a model takes: <c>(pixel * scale - mean[c]) / std[c]</c>, and any preprocessing hint.</summary>
public sealed record InputDetails(int Channels, int Height, int Width, string Color, float Scale, float[] Mean, float[] Std, string? Preprocess);

/// <summary>One layer: output shape [C, H, W], parameters, and millions of floating-point operations per image.</summary>
public sealed record LayerRow(int Index, string Type, string? Name, int[] OutputShape, long Parameters, double Mflops);
