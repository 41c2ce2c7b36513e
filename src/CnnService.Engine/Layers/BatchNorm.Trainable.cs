using CnnService.Engine.Format;
using CnnService.Engine.Training;

namespace CnnService.Engine.Layers;

public sealed partial class BatchNorm
{
    internal override TrainLayer ForTraining(TrainSetup setup) => new Trainable(this, setup);

    /// <summary>
    /// Batch normalisation for training, per channel over (N, H, W) (a [C, 1, 1] input after a dense
    /// layer makes it PyTorch's BatchNorm1d). In training it normalises with the batch's mean and
    /// biased variance and moves the running statistics as PyTorch does,
    /// running = (1 - momentum) * running + momentum * batch, with the unbiased variance m/(m-1);
    /// in evaluation it folds the running statistics with the layer's own <see cref="Fold"/> and <see cref="Apply"/>.
    /// Backward in training mode: dx = gamma * invstd / m * (m dy - sum(dy) - xhat * sum(dy xhat)),
    /// dgamma = sum(dy xhat), dbeta = sum(dy), the sums in double.
    /// </summary>
    private sealed unsafe class Trainable : TrainLayer
    {
        private readonly BatchNorm _op;
        private readonly Parameter _gamma, _beta, _runningMean, _runningVar;

        /// <summary>Per channel, the mean and 1/sqrt(var + eps) the last forward pass normalised with.</summary>
        private readonly float[] _mean, _invStd;

        /// <summary>Evaluation mode's folded scale and shift.</summary>
        private readonly float[] _scale, _shift;

        public Trainable(BatchNorm op, TrainSetup setup)
            : base(op.Type, op.Name, op.InputShape, op.OutputShape)
        {
            _op = op;
            int c = InputShape.C;
            IWeightSource weights = setup.Weights;
            _gamma = new Parameter($"{Name}.weight", [c], weights.Take($"{Name}.weight", c));
            _beta = new Parameter($"{Name}.bias", [c], weights.Take($"{Name}.bias", c));
            _runningMean = new Parameter($"{Name}.running_mean", [c], weights.Take($"{Name}.running_mean", c), trainable: false);
            _runningVar = new Parameter($"{Name}.running_var", [c], weights.Take($"{Name}.running_var", c), trainable: false);
            weights.Ignore($"{Name}.num_batches_tracked");
            Parameters = [_gamma, _beta, _runningMean, _runningVar];
            _mean = new float[c];
            _invStd = new float[c];
            _scale = new float[c];
            _shift = new float[c];
        }

        public override IReadOnlyList<Parameter> Parameters { get; }

        public override void Forward(TrainContext ctx, float[] input, float[] output)
        {
            if (!ctx.Training)
            {
                Fold(_gamma.Value, _beta.Value, _runningMean.Value, _runningVar.Value, _op.Eps, _scale, _shift);
                for (int c = 0; c < InputShape.C; c++)
                {
                    _mean[c] = _runningMean.Value[c];
                    _invStd[c] = (float)(1 / Math.Sqrt((double)_runningVar.Value[c] + _op.Eps));
                }

                fixed (float* x = input, y = output) _op.Apply(x, y, ctx.Batch, _scale, _shift);
                return;
            }

            int channels = InputShape.C, plane = InputShape.H * InputShape.W;
            long m = (long)ctx.Batch * plane;
            if (m < 2)
                throw new InvalidOperationException($"{this}: batch statistics need more than one value per channel, got a batch of {ctx.Batch} on {plane} position(s).");

            double momentum = _op.Momentum;
            for (int c = 0; c < channels; c++)
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
                _invStd[c] = (float)(1 / Math.Sqrt(variance + _op.Eps));
                _runningMean.Value[c] = (float)((1 - momentum) * _runningMean.Value[c] + momentum * mean);
                _runningVar.Value[c] = (float)((1 - momentum) * _runningVar.Value[c] + momentum * variance * m / (m - 1));

                float mu = _mean[c], scale = _invStd[c] * _gamma.Value[c], shift = _beta.Value[c];
                for (int n = 0; n < ctx.Batch; n++)
                {
                    ReadOnlySpan<float> x = Plane(input, n, c);
                    Span<float> y = Plane(output, n, c);
                    for (int p = 0; p < plane; p++) y[p] = (x[p] - mu) * scale + shift;
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
}
