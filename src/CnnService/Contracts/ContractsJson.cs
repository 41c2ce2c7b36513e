using System.Text.Json;
using System.Text.Json.Serialization;

namespace CnnService.Contracts;

/// <summary>
/// Source-generated JSON for the answers on the hot path (one per predict request): written straight to the
/// response, without the reflection-built metadata's per-property indirections. Generated with the same options
/// the HTTP layer uses (web defaults, snake_case, nulls left out), which is what lets System.Text.Json take the
/// generated fast path; every other type keeps the reflection resolver after it in the chain.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(PredictResponse))]
public sealed partial class ContractsJson : JsonSerializerContext;
