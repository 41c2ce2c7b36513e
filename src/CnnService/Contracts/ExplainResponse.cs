namespace CnnService.Contracts;

/// <summary>
/// <c>POST /v1/models/{name}/explain</c>: the prediction for one image, the input as the network
/// saw it, and every layer's output as pictures (base64 PNGs, one per channel, on one colour scale
/// per layer) or, for vector layers, as values. <see cref="Id"/> keys the cached activations until
/// <see cref="ExpiresAt"/>, for <c>activations/{layer}.png?id=</c>.
/// </summary>
public sealed record ExplainResponse(
    string Model, int Version, string Id, DateTimeOffset ExpiresAt, Prediction Prediction, ExplainInput Input, IReadOnlyList<LayerExplanation> Layers);

/// <summary>The network's input [C, H, W] after preprocessing, drawn as a PNG (grey or RGB, stretched min to max).</summary>
public sealed record ExplainInput(int[] Shape, string Image);

/// <summary>
/// One layer's output [C, H, W]. <see cref="Scale"/> is <c>diverging</c> (signed: blue, white at zero,
/// red; symmetric) or <c>sequential</c> (non-negative: white at zero to dark blue at <see cref="Max"/>).
/// <see cref="Maps"/> holds one PNG per channel when H x W &gt; 1; <see cref="Values"/> the vector
/// when H = W = 1 (a non-finite value is null).
/// </summary>
public sealed record LayerExplanation(
    int Index, string? Name, string Type, int[] OutputShape, long Parameters, float Min, float Max, string Scale,
    IReadOnlyList<string>? Maps, float?[]? Values, string ActivationsUrl, string? FiltersUrl);
