using CnnService.Engine.Data;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Evaluation;

/// <summary>
/// Scores a model on a labelled dataset: runs every item through it in batches, normalised as the
/// model's input spec says, and counts each (actual, predicted) pair. The prediction is the largest
/// output, the lowest index on a tie. The loss is the cross-entropy of the outputs read as
/// probabilities by the service's rule (<see cref="Probabilities"/>: softmax applied to a model that
/// does not end in one). Classes are named by the model's labels when it has names for them (a
/// dataset read from a plain directory knows only "0".."n-1"), else by the dataset's. One input and one output
/// buffer serve every batch; <see cref="Model.Forward"/> spreads each batch over the model's threads.
/// </summary>
public static class Evaluator
{
    public const int DefaultBatchSize = 256;

    /// <summary>Probabilities are clamped to this before the logarithm, as Keras does, so a confident mistake costs about 16, not infinity.</summary>
    public const double MinProbability = 1e-7;

    public static EvaluationResult Evaluate(Model model, IDataset data, int batchSize = DefaultBatchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        Check(model, data);

        TensorShape shape = model.InputShape;
        int inputSize = shape.Size, classes = model.OutputShape.Size, count = data.Count;
        int batch = Math.Min(batchSize, count);
        if ((long)batch * inputSize > Array.MaxLength)
            throw new ArgumentException($"A batch of {batch} items of {shape} is too large; use a smaller batch.");

        var input = new float[batch * inputSize];
        var output = new float[batch * classes];
        var confusion = new int[classes, classes];
        double lossSum = 0;
        for (int start = 0; start < count; start += batch)
        {
            int n = Math.Min(batch, count - start);
            Span<float> x = input.AsSpan(0, n * inputSize);
            for (int i = 0; i < n; i++) data.CopyPixels(start + i, x.Slice(i * inputSize, inputSize));
            InputNormalization.Apply(model.Spec.Input, x, x);

            Span<float> y = output.AsSpan(0, n * classes);
            model.Forward(x, y, n);
            for (int i = 0; i < n; i++)
            {
                Span<float> probabilities = y.Slice(i * classes, classes);
                Probabilities.FromOutputs(model.Spec, probabilities);
                int actual = data.Label(start + i);
                confusion[actual, Probabilities.ArgMax(probabilities)]++;
                lossSum -= Math.Log(Math.Max(probabilities[actual], MinProbability));
            }
        }

        return new EvaluationResult(model.Spec.Name, data.Name, ClassNames(model, data), confusion, lossSum / count);
    }

    /// <summary>The model's labels unless they are only the indices "0".."n-1" (then the dataset's classes, which may have names).</summary>
    internal static IReadOnlyList<string> ClassNames(Model model, IDataset data)
    {
        IReadOnlyList<string> labels = model.Labels;
        if (labels.Count != data.Classes.Count) return data.Classes;
        for (int i = 0; i < labels.Count; i++)
            if (labels[i] != i.ToString(System.Globalization.CultureInfo.InvariantCulture)) return labels;
        return data.Classes;
    }

    private static void Check(Model model, IDataset data)
    {
        if (data.Count == 0) throw new ArgumentException($"{data.Name}: the dataset is empty; there is nothing to evaluate.");
        if (data.Shape != model.InputShape)
            throw new ArgumentException($"{data.Name}: items are {data.Shape}, but model '{model.Spec.Name}' takes {model.InputShape}.");
        if (data.Classes.Count != model.OutputShape.Size)
            throw new ArgumentException($"{data.Name}: {data.Classes.Count} classes, but model '{model.Spec.Name}' outputs {model.OutputShape.Size} values per item.");
    }
}
