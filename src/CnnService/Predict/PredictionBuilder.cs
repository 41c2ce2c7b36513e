using CnnService.Contracts;
using CnnService.Engine.Runtime;

namespace CnnService.Predict;

/// <summary>
/// Network outputs to predictions. A model that ends in softmax already gives probabilities; one that
/// ends in logits gets a (stable) softmax here, so <c>probability</c> always means one.
/// </summary>
public static class PredictionBuilder
{
    public static List<Prediction> Build(Model model, float[] outputs, int count, int topK)
    {
        int classes = model.OutputShape.Size;
        bool needsSoftmax = model.Spec.Layers.Count == 0 || model.Spec.Layers[^1].Type != "softmax";
        var predictions = new List<Prediction>(count);
        for (int n = 0; n < count; n++)
        {
            float[] probabilities = outputs.AsSpan(n * classes, classes).ToArray();
            if (needsSoftmax) Softmax(probabilities);
            predictions.Add(new Prediction(Top(probabilities, Math.Min(topK, classes), model.Labels), probabilities));
        }

        return predictions;
    }

    private static List<ClassScore> Top(float[] probabilities, int k, IReadOnlyList<string> labels)
    {
        // Partial selection: k is small, the class count is small; ties go to the lower index.
        var top = new List<ClassScore>(k);
        var taken = new bool[probabilities.Length];
        for (int j = 0; j < k; j++)
        {
            int best = -1;
            for (int i = 0; i < probabilities.Length; i++)
                if (!taken[i] && (best < 0 || probabilities[i] > probabilities[best])) best = i;
            taken[best] = true;
            top.Add(new ClassScore(best, best < labels.Count ? labels[best] : best.ToString(System.Globalization.CultureInfo.InvariantCulture), probabilities[best]));
        }

        return top;
    }

    private static void Softmax(Span<float> values)
    {
        float max = float.NegativeInfinity;
        foreach (float v in values) max = Math.Max(max, v);
        float sum = 0;
        for (int i = 0; i < values.Length; i++) sum += values[i] = MathF.Exp(values[i] - max);
        for (int i = 0; i < values.Length; i++) values[i] /= sum;
    }
}
