namespace CnnService.Engine.Evaluation;

/// <summary>
/// A model's score on a dataset: overall accuracy, mean cross-entropy, and the confusion matrix
/// from which the per-class figures follow. <c>Confusion[actual, predicted]</c> counts items.
/// </summary>
public sealed class EvaluationResult
{
    public EvaluationResult(string modelName, string datasetName, IReadOnlyList<string> classes, int[,] confusion, double loss)
    {
        int n = classes.Count;
        if (confusion.GetLength(0) != n || confusion.GetLength(1) != n)
            throw new ArgumentException($"The confusion matrix is {confusion.GetLength(0)} x {confusion.GetLength(1)}; {n} classes need {n} x {n}.", nameof(confusion));

        ModelName = modelName;
        DatasetName = datasetName;
        Classes = classes;
        Confusion = confusion;
        Loss = loss;
        var perClass = new ClassResult[n];
        for (int actual = 0; actual < n; actual++)
        {
            int count = 0;
            for (int predicted = 0; predicted < n; predicted++) count += confusion[actual, predicted];
            perClass[actual] = new ClassResult(classes[actual], count, confusion[actual, actual]);
            Count += count;
            Correct += confusion[actual, actual];
        }

        PerClass = perClass;
    }

    public string ModelName { get; }
    public string DatasetName { get; }

    /// <summary>The dataset's class names; row and column i of <see cref="Confusion"/> are class i.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Items counted by [actual class, predicted class].</summary>
    public int[,] Confusion { get; }

    public int Count { get; }
    public int Correct { get; }

    /// <summary>Correct / Count, from 0 to 1.</summary>
    public double Accuracy => Count == 0 ? double.NaN : (double)Correct / Count;

    /// <summary>Mean cross-entropy, -ln p(true class), with p clamped to at least <see cref="Evaluator.MinProbability"/>.</summary>
    public double Loss { get; }

    public IReadOnlyList<ClassResult> PerClass { get; }
}
