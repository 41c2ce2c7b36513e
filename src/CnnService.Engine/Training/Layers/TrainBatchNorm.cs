using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Training.Layers;

/// <summary>
/// Batch normalisation for training, per channel over (N, H, W) (a [C, 1, 1] input after a dense
/// layer makes it PyTorch's BatchNorm1d). In training it normalises with the batch's mean and
/// biased variance and moves the running statistics as PyTorch does,
/// running = (1 - momentum) * running + momentum * batch, with the unbiased variance m/(m-1);
/// in evaluation it uses the running statistics exactly as the inference layer folds them.
/// Backward in training mode: dx = gamma * invstd / m * (m dy - sum(dy) - xhat * sum(dy xhat)),
/// dgamma = sum(dy xhat), dbeta = sum(dy), the sums in double.
/// </summary>
internal sealed class TrainBatchNorm : TrainLayer
{
    private readonly Parameter _gamma, _beta, _runningMean, _runningVar;
    private readonly float _eps, _momentum;

    /// <summary>Per channel, the mean and 1/sqrt(var + eps) the last forward pass normalised with.</summary>
    private readonly float[] _mean, _invStd;

    public TrainBatchNorm(LayerSpec spec, string where, TensorShape input, IWeightSource weights)
        : base("batchnorm", spec.Name, input, input)
    {
        if (!(spec.Eps > 0) || !float.IsFinite(spec.Eps)) throw new ModelFormatException($"{where}: \"eps\" must be positive.");
        if (!(spec.Momentum >= 0 && spec.Momentum <= 1)) throw new ModelFormatException($"{where}: \"momentum\" must be between 0 and 1.");
        int c = input.C;
        _gamma = new Parameter($"{spec.Name}.weight", [c], weights.Take($"{spec.Name}.weight", c));
        _beta = new Parameter($"{spec.Name}.bias", [c], weights.Take($"{spec.Name}.bias", c));
        _runningMean = new Parameter($"{spec.Name}.running_mean", [c], weights.Take($"{spec.Name}.running_mean", c), trainable: false);
        _runningVar = new Parameter($"{spec.Name}.running_var", [c], weights.Take($"{spec.Name}.running_var", c), trainable: false);
        weights.Ignore($"{spec.Name}.num_batches_tracked");
        Parameters = [_gamma, _beta, _runningMean, _runningVar];
        (_eps, _momentum) = (spec.Eps, spec.Momentum);
        _mean = new float[c];
        _invStd = new float[c];
    }

    public override IReadOnlyList<Parameter> Parameters { get; }

    public override void Forward(TrainContext ctx, float[] input, float[] output)
    {
        int channels = InputShape.C, plane = InputShape.H * InputShape.W;
        long m = (long)ctx.Batch * plane;
        if (ctx.Training && m < 2)
            throw new InvalidOperationException($"{this}: batch statistics need more than one value per channel, got a batch of {ctx.Batch} on {plane} position(s).");

        for (int c = 0; c < channels; c++)
        {
            if (ctx.Training)
            {
                double sum = 0;
                for (int n = 0; n < ctx.Batch; n++)
                {
                    ReadOnlySpan<float> x = Plane(input, n, c);
                    for (int p = 0; p < plane; p++) sum += x[p];
                }

                double mean = sum / m, squares = 0;
                for (int n = 0; n < ctx.Batch; n++)
                {
                    ReadOnlySpan<float> x = Plane(input, n, c);
                    for (int p = 0; p < plane; p++) squares += (x[p] - mean) * (x[p] - mean);
                }

                double variance = squares / m;
                _mean[c] = (float)mean;
                _invStd[c] = (float)(1 / Math.Sqrt(variance + _eps));
                _runningMean.Value[c] = (float)((1 - (double)_momentum) * _runningMean.Value[c] + _momentum * mean);
                _runningVar.Value[c] = (float)((1 - (double)_momentum) * _runningVar.Value[c] + _momentum * variance * m / (m - 1));

                float mu = _mean[c], scale = _invStd[c] * _gamma.Value[c], shift = _beta.Value[c];
                for (int n = 0; n < ctx.Batch; n++)
                {
                    ReadOnlySpan<float> x = Plane(input, n, c);
                    Span<float> y = Plane(output, n, c);
                    for (int p = 0; p < plane; p++) y[p] = (x[p] - mu) * scale + shift;
                }
            }
            else
            {
                // Folded exactly as the inference layer folds it: the same bits out.
                double s = _gamma.Value[c] / Math.Sqrt((double)_runningVar.Value[c] + _eps);
                float scale = (float)s, shift = (float)(_beta.Value[c] - _runningMean.Value[c] * s);
                _mean[c] = _runningMean.Value[c];
                _invStd[c] = (float)(1 / Math.Sqrt((double)_runningVar.Value[c] + _eps));
                for (int n = 0; n < ctx.Batch; n++)
                {
                    ReadOnlySpan<float> x = Plane(input, n, c);
                    Span<float> y = Plane(output, n, c);
                    for (int p = 0; p < plane; p++) y[p] = x[p] * scale + shift;
                }
            }
        }
    }

    public override void Backward(TrainContext ctx, float[] input, float[] output, float[] dOutput, float[]? dInput)
    {
        int channels = InputShape.C, plane = InputShape.H * InputShape.W;
        long m = (long)ctx.Batch * plane;
        for (int c = 0; c < channels; c++)
        {
            float mu = _mean[c], invStd = _invStd[c];
            double sumDy = 0, sumDyXhat = 0;
            for (int n = 0; n < ctx.Batch; n++)
            {
                ReadOnlySpan<float> x = Plane(input, n, c), dy = Plane(dOutput, n, c);
                for (int p = 0; p < plane; p++)
                {
                    sumDy += dy[p];
                    sumDyXhat += (double)dy[p] * ((x[p] - mu) * invStd);
                }
            }

            _gamma.Grad[c] = (float)sumDyXhat;
            _beta.Grad[c] = (float)sumDy;
            if (dInput is null) continue;

            // In evaluation mode the statistics are constants: dx is dy through the affine map alone.
            float gain = _gamma.Value[c] * invStd;
            float meanDy = ctx.Training ? (float)(sumDy / m) : 0f, meanDyXhat = ctx.Training ? (float)(sumDyXhat / m) : 0f;
            for (int n = 0; n < ctx.Batch; n++)
            {
                ReadOnlySpan<float> x = Plane(input, n, c), dy = Plane(dOutput, n, c);
                Span<float> dx = Plane(dInput, n, c);
                for (int p = 0; p < plane; p++) dx[p] = gain * (dy[p] - meanDy - (x[p] - mu) * invStd * meanDyXhat);
            }
        }
    }

    private Span<float> Plane(float[] buffer, int n, int c)
    {
        int plane = InputShape.H * InputShape.W;
        return buffer.AsSpan((n * InputShape.C + c) * plane, plane);
    }
}
