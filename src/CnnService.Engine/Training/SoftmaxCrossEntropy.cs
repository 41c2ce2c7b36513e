using CnnService.Engine.Evaluation;

namespace CnnService.Engine.Training;

/// <summary>
/// Sparse categorical cross-entropy on logits, fused with the softmax in front of it as every
/// framework does: loss = log(sum_j exp(z_j - max)) - (z_label - max), which never overflows or
/// takes log(0), and d loss / d z = (softmax(z) - onehot(label)) / batch, which never divides by
/// a probability.
/// </summary>
public static class SoftmaxCrossEntropy
{
    /// <summary>
    /// Mean loss over the batch; writes d(mean loss)/d logits into <paramref name="dLogits"/> and
    /// counts the images whose largest logit (first on ties, NaN never: <see cref="Probabilities.ArgMax"/>) is their label.
    /// </summary>
    public static double Compute(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int classes, Span<float> dLogits, out int correct)
    {
        int batch = labels.Length;
        if (logits.Length < batch * classes || dLogits.Length < batch * classes)
            throw new ArgumentException($"{batch} images of {classes} classes need {batch * classes} logits.");
        double total = 0;
        correct = 0;
        float invBatch = 1f / batch;
        for (int n = 0; n < batch; n++)
        {
            int label = labels[n];
            if ((uint)label >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(labels), $"label {label} of image {n} is not a class index in [0, {classes}).");
            ReadOnlySpan<float> z = logits.Slice(n * classes, classes);
            Span<float> g = dLogits.Slice(n * classes, classes);
            int best = Probabilities.ArgMax(z);
            if (best == label) correct++;

            float max = z[best];
            double sum = 0;
            for (int j = 0; j < classes; j++)
            {
                float e = MathF.Exp(z[j] - max);
                g[j] = e;
                sum += e;
            }

            total += Math.Log(sum) - (z[label] - max);
            float scale = (float)(invBatch / sum);
            for (int j = 0; j < classes; j++) g[j] *= scale;
            g[label] -= invBatch;
        }

        return total / batch;
    }
}
