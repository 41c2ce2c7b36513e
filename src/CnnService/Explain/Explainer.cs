using System.Globalization;
using CnnService.Contracts;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;
using CnnService.Imaging.Rendering;
using CnnService.Models;
using CnnService.Predict;

namespace CnnService.Explain;

/// <summary>
/// Traces one image through a model version (every layer's output, see <see cref="Model.Trace"/>),
/// keeps the result in the <see cref="ExplainCache"/>, and draws it: the answer of the explain
/// endpoint and the pictures of the activations and filters endpoints.
/// </summary>
public sealed class Explainer(ExplainCache cache)
{
    public Explanation Trace(ModelVersion version, ReadOnlySpan<float> input)
    {
        Model model = version.Model;
        float[][] outputs = model.Trace(input);
        (string id, DateTimeOffset expiresAt) = cache.NewEntry();
        var explanation = new Explanation(id, version.Name, version.Version, expiresAt, model.InputShape, input.ToArray(),
            LayerSelector.NamesOf(model), model.Layers.Select(l => l.OutputShape).ToArray(), outputs);
        cache.Add(explanation);
        return explanation;
    }

    /// <summary>The explain answer: the prediction, the input, and each layer (or only <paramref name="onlyLayer"/>) drawn at <paramref name="mapSize"/> pixels.</summary>
    public static ExplainResponse Describe(Explanation e, Model model, int? onlyLayer, int topK, int mapSize)
    {
        float[] last = e.Outputs.Length > 0 ? e.Outputs[^1] : e.Input;
        Prediction prediction = PredictionBuilder.Build(model, last, 1, topK)[0];
        TensorShape inputShape = e.InputShape;
        string inputPng = Convert.ToBase64String(InputRenderer.Render(e.Input, inputShape.C, inputShape.H, inputShape.W,
            ActivationRenderer.PixelSize(inputShape.H, inputShape.W, mapSize)));

        var layers = new List<LayerExplanation>();
        for (int i = 0; i < e.Outputs.Length; i++)
        {
            if (onlyLayer is int only && only != i) continue;
            layers.Add(DescribeLayer(e, model.Layers[i], i, mapSize));
        }

        return new ExplainResponse(e.Model, e.Version, e.Id, e.ExpiresAt, prediction, new ExplainInput(Dims(inputShape), inputPng), layers);
    }

    /// <summary>All channels of layer <paramref name="index"/> in one PNG.</summary>
    public static byte[] ActivationMosaic(Explanation e, int index, int mapSize)
    {
        TensorShape s = e.Shapes[index];
        float[] output = e.Outputs[index];
        return ActivationRenderer.Mosaic(output, s.C, s.H, s.W, ColorScale.Of(output), ActivationRenderer.PixelSize(s.H, s.W, mapSize));
    }

    /// <summary>A conv layer's kernels as one PNG: each filter reads C / groups input channels (one for a depthwise layer).</summary>
    public static byte[] Filters(IConvolution conv) =>
        FilterRenderer.Render(conv.CopyWeights(), conv.OutputShape.C, conv.ChannelsPerFilter, conv.KernelHeight, conv.KernelWidth,
            FilterRenderer.PixelSize(conv.KernelHeight, conv.KernelWidth));

    private static LayerExplanation DescribeLayer(Explanation e, Layer layer, int index, int mapSize)
    {
        TensorShape s = e.Shapes[index];
        float[] output = e.Outputs[index];
        ColorScale scale = ColorScale.Of(output);
        List<string>? maps = null;
        float?[]? values = null;
        if (s.H * s.W > 1)
        {
            int pixel = ActivationRenderer.PixelSize(s.H, s.W, mapSize);
            maps = new List<string>(s.C);
            for (int c = 0; c < s.C; c++) maps.Add(Convert.ToBase64String(ActivationRenderer.Channel(output, c, s.H, s.W, scale, pixel)));
        }
        else
        {
            values = output.Select(v => float.IsFinite(v) ? v : (float?)null).ToArray();
        }

        string at = string.Create(CultureInfo.InvariantCulture, $"/v1/models/{Uri.EscapeDataString(e.Model)}/versions/{e.Version}");
        return new LayerExplanation(index, layer.Name, layer.Type, Dims(s), layer.Parameters, scale.Min, scale.Max,
            scale.Kind == ColorScaleKind.Diverging ? "diverging" : "sequential", maps, values,
            string.Create(CultureInfo.InvariantCulture, $"{at}/activations/{index}.png?id={e.Id}"),
            layer is IConvolution ? string.Create(CultureInfo.InvariantCulture, $"{at}/filters/{index}.png") : null);
    }

    private static int[] Dims(TensorShape s) => [s.C, s.H, s.W];
}
