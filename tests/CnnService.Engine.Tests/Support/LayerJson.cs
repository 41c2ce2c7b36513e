using CnnService.Engine.Format;

namespace CnnService.Engine.Tests.Support;

/// <summary>Layer specs written as model.json text, so a test reaches an op's settings the way a model file does.</summary>
internal static class LayerJson
{
    /// <summary>One layer object, e.g. <c>{ "type": "clip", "min": 0 }</c>, parsed with the model.json rules.</summary>
    public static LayerSpec Parse(string json) => ModelSpecJson.ParseLayers($"[{json}]", "model.json")[0];
}
