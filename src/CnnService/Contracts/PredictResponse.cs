namespace CnnService.Contracts;

/// <summary>The answer to a predict request: one prediction per input, in order.</summary>
public sealed record PredictResponse(string Model, int Version, IReadOnlyList<Prediction> Predictions);

/// <summary>The <c>top_k</c> classes, most probable first, and every class's probability by index.</summary>
public sealed record Prediction(IReadOnlyList<ClassScore> Top, float[] Probabilities);

public sealed record ClassScore(int Index, string Label, float Probability);
