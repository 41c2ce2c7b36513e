using CnnService.Inference;

namespace CnnService.Protocols.V2;

/// <summary><c>GET /v2</c>: the server's name, version, and the protocol extensions it really supports.</summary>
public sealed record V2ServerMetadata(string Name, string Version, IReadOnlyList<string> Extensions);

/// <summary><c>GET /v2/models/{m}[/versions/{v}]</c>: the model's served versions and its tensors (-1 for the batch dimension).</summary>
public sealed record V2ModelMetadata(string Name, IReadOnlyList<string> Versions, string Platform, IReadOnlyList<TensorSignature> Inputs, IReadOnlyList<TensorSignature> Outputs);

/// <summary>Every v2 refusal: <c>{"error": "..."}</c>, as the protocol gives it.</summary>
public sealed record V2Error(string Error);
