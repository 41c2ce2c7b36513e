using CnnService.Contracts;
using CnnService.Engine.Evaluation;
using CnnService.Engine.Runtime;
using CnnService.Inference;

namespace CnnService.Predict;

/// <summary>
/// Network outputs to predictions. A model that ends in softmax already gives probabilities; one that
/// ends in logits gets a (stable) softmax, so <c>probability</c> always means one (the engine's
/// <see cref="Probabilities"/>, the same rule as <c>cnn predict</c>).
/// </summary>
public static class PredictionBuilder
{
    /// <summary>The predictions of a request the core ran: its output tensor, one row per image.</summary>
    public static List<Prediction> Build(InferenceResult result, int topK) => Build(result.Version.Model, result.Output, result.Count, topK);

    public static List<Prediction> Build(Model model, ReadOnlySpan<float> outputs, int count, int topK)
    {
        int classes = model.OutputShape.Size;
        var predictions = new List<Prediction>(count);
        for (int n = 0; n < count; n++)
        {
            float[] probabilities = outputs.Slice(n * classes, classes).ToArray();
            Probabilities.FromOutputs(model.Spec, probabilities);
            var top = Probabilities.TopIndices(probabilities, topK)
                .Select(i => new ClassScore(i, Probabilities.LabelOf(model.Labels, i), probabilities[i])).ToList();
            predictions.Add(new Prediction(top, probabilities));
        }

        return predictions;
    }
}
