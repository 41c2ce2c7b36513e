using CnnService.Engine.Tests.Support;
using CnnService.Engine.Training;

namespace CnnService.Engine.Tests.Training;

public class SoftmaxCrossEntropyTests
{
    [Fact]
    public void Gradient_matches_finite_differences_of_the_mean_loss()
    {
        const int batch = 4, classes = 7;
        float[] logits = TestModels.Random(batch * classes, seed: 1, scale: 3f);
        int[] labels = [0, 6, 3, 3];
        var dLogits = new float[logits.Length];
        SoftmaxCrossEntropy.Compute(logits, labels, classes, dLogits, out _);

        var scratch = new float[logits.Length];
        for (int i = 0; i < logits.Length; i++)
        {
            float saved = logits[i], plus = saved + 1e-2f, minus = saved - 1e-2f;
            logits[i] = plus;
            double up = SoftmaxCrossEntropy.Compute(logits, labels, classes, scratch, out _);
            logits[i] = minus;
            double down = SoftmaxCrossEntropy.Compute(logits, labels, classes, scratch, out _);
            logits[i] = saved;

            Assert.Equal((up - down) / ((double)plus - minus), dLogits[i], 1e-4);
        }
    }

    [Fact]
    public void Loss_matches_minus_log_softmax_of_the_label()
    {
        float[] logits = [1f, 2f, 3f, -1f, 0f, 5f];
        int[] labels = [1, 0];
        double expected = (-Math.Log(Math.Exp(2) / (Math.Exp(1) + Math.Exp(2) + Math.Exp(3)))
                           - Math.Log(Math.Exp(-1) / (Math.Exp(-1) + Math.Exp(0) + Math.Exp(5)))) / 2;

        Assert.Equal(expected, SoftmaxCrossEntropy.Compute(logits, labels, 3, new float[6], out _), 1e-6);
    }

    [Fact]
    public void Huge_logits_give_a_finite_loss_and_gradient()
    {
        float[] logits = [1000f, -1000f, 0f, -1000f, 1000f, 999f];
        var dLogits = new float[6];

        double loss = SoftmaxCrossEntropy.Compute(logits, [1, 1], 3, dLogits, out int correct);

        Assert.Equal((2000 + Math.Log(1 + Math.Exp(-1))) / 2, loss, 1e-3);
        Assert.All(dLogits, g => Assert.True(float.IsFinite(g)));
        Assert.Equal(1, correct);
    }

    [Fact]
    public void An_image_counts_as_right_by_the_evaluators_argmax_ties_to_the_first_and_nan_never()
    {
        float[] logits = [0.5f, 0.5f, 0.1f, float.NaN, 0.1f, 0.9f];

        SoftmaxCrossEntropy.Compute(logits, [0, 2], 3, new float[6], out int correct);

        Assert.Equal(2, correct);
    }
}
