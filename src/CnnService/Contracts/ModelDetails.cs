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
    DateTimeOffset LoadedAt)
{
    /// <summary>
    /// TensorFlow Serving's GetModelStatus answer beside ours, so its clients can poll this route: every version
    /// on the default-version route, the one version on the versioned route.
    /// </summary>
    public IReadOnlyList<Protocols.TfServing.TfModelVersionStatus>? ModelVersionStatus { get; init; }
}

/// <summary>The input a model takes: <c>(pixel * scale - mean[c]) / std[c]</c>, and any preprocessing hint.</summary>
public sealed record InputDetails(int Channels, int Height, int Width, string Color, float Scale, float[] Mean, float[] Std, string? Preprocess);

/// <summary>One layer: output shape [C, H, W], parameters, and millions of floating-point operations per image.</summary>
/// <param name="Inputs">The layers this one reads, by index; -1 is the model's input. A chain reads the layer before.</param>
/// <param name="Fused">A ReLU that runs inside the layer it reads (in its GEMM), not on its own.</param>
public sealed record LayerRow(int Index, string Type, string? Name, int[] Inputs, int[] OutputShape, long Parameters, double Mflops, bool Fused);
