using CnnService.Engine.Format;
using CnnService.Engine.Kernels;

namespace CnnService.Engine.Evaluation;

/// <summary>
/// A model's outputs read as class probabilities, one rule for the service, the CLI and the evaluator:
/// a model whose last layer is softmax already gives probabilities; any other (logits) gets a stable
/// softmax applied, so "probability" always means one. And the top classes of such a vector.
/// </summary>
public static class Probabilities
{
    /// <summary>Whether <paramref name="spec"/>'s outputs need a softmax to be probabilities: its last layer is not one.</summary>
    public static bool NeedSoftmax(ModelSpec spec) => spec.Layers.Count == 0 || spec.Layers[^1].Type != "softmax";

    /// <summary>Turns one item's outputs into probabilities in place, when the model does not end in softmax.</summary>
    public static void FromOutputs(ModelSpec spec, Span<float> outputs)
    {
        if (NeedSoftmax(spec)) Softmax(outputs);
    }

    /// <summary>Softmax in place, by the same kernel as the softmax layer.</summary>
    public static unsafe void Softmax(Span<float> values)
    {
        fixed (float* v = values) SoftmaxKernel.Apply(v, v, values.Length, 1);
    }

    /// <summary>The index of the largest value, the lowest on a tie; NaN never wins (all NaN gives 0): <see cref="TopIndices"/>' first, without sorting.</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        float max = float.NegativeInfinity;
        for (int i = 0; i < values.Length; i++)
        {
            if (values[i] > max)
            {
                max = values[i];
                best = i;
            }
        }

        return best;
    }

    /// <summary>The indices of the <paramref name="k"/> largest values, largest first; ties by index; NaN ranks last.</summary>
    public static int[] TopIndices(ReadOnlySpan<float> values, int k)
    {
        var indices = new int[values.Length];
        for (int i = 0; i < indices.Length; i++) indices[i] = i;
        float[] copy = values.ToArray();
        Array.Sort(indices, (a, b) =>
        {
            float x = copy[a], y = copy[b];
            if (float.IsNaN(x) || float.IsNaN(y))
            {
                int nan = float.IsNaN(x).CompareTo(float.IsNaN(y));
                return nan != 0 ? nan : a.CompareTo(b);
            }

            int byValue = y.CompareTo(x);
            return byValue != 0 ? byValue : a.CompareTo(b);
        });
        return indices[..Math.Min(Math.Max(k, 0), indices.Length)];
    }

    /// <summary>The model's label for output <paramref name="index"/>, or the index itself when it has none.</summary>
    public static string LabelOf(IReadOnlyList<string> labels, int index) =>
        index < labels.Count ? labels[index] : index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
