namespace CnnService.Engine.Kernels;

/// <summary>
/// The one softmax: y_i = exp(x_i - max) / sum_j exp(x_j - max) over <c>count</c> values spaced
/// <c>stride</c> apart (1 for a vector; H*W for the channels at one position of an NCHW image).
/// Subtracting the maximum first keeps exp from overflowing, so logits of any size work; y may be x.
/// The loss fuses its own softmax into cross-entropy (<see cref="Training.SoftmaxCrossEntropy"/>),
/// where it needs the log of the sum, not the probabilities.
/// </summary>
internal static unsafe class SoftmaxKernel
{
    public static void Apply(float* x, float* y, int count, nint stride)
    {
        float max = float.NegativeInfinity;
        for (int i = 0; i < count; i++) max = MathF.Max(max, x[i * stride]);
        float sum = 0f;
        for (int i = 0; i < count; i++)
        {
            float e = MathF.Exp(x[i * stride] - max);
            y[i * stride] = e;
            sum += e;
        }

        float inv = 1f / sum;
        for (int i = 0; i < count; i++) y[i * stride] *= inv;
    }
}
