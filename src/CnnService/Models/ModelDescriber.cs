using CnnService.Contracts;
using CnnService.Engine.Format;
using CnnService.Engine.Layers;

namespace CnnService.Models;

/// <summary>What the model endpoints say about models: a list of names and versions, or one version in full.</summary>
public static class ModelDescriber
{
    public static ModelSummary Summarize(ServedModel model) =>
        new(model.Name, model.Default?.Version,
            model.Loaded.Values.Select(v => new VersionStatus(v.Version, "available", v.LoadedAt, null))
                .Concat(model.Failed.Select(f => new VersionStatus(f.Key, "failed", null, f.Value.Error)))
                .OrderBy(s => s.Version).ToList());

    public static ModelDetails Describe(ModelVersion version, bool isDefault)
    {
        var model = version.Model;
        InputSpec input = model.Spec.Input;
        var layers = model.Layers.Select((Layer layer, int i) => new LayerRow(
            i, layer.Type, layer.Name, [.. model.InputsOf(i)], [layer.OutputShape.C, layer.OutputShape.H, layer.OutputShape.W], layer.Parameters,
            layer.FlopsPerImage / 1e6, model.IsFusedAway(i))).ToList();
        string? preprocess = input.Extra.TryGetPropertyValue("preprocess", out var hint) && hint is not null ? hint.ToString() : null;
        return new ModelDetails(
            version.Name, version.Version, isDefault, model.Spec.Description,
            new InputDetails(input.Channels, input.Height, input.Width, input.Color.ToString().ToLowerInvariant(), input.Scale, input.Mean, input.Std, preprocess),
            model.Labels, layers, model.Parameters, model.FlopsPerImage / 1e6, version.Metrics, version.WeightsSha256, version.LoadedAt);
    }
}
