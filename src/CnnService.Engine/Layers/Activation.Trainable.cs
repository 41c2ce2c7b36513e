using CnnService.Engine.Kernels;
using CnnService.Engine.Training;

namespace CnnService.Engine.Layers;

public sealed partial class Activation
{
    internal override TrainLayer ForTraining(TrainSetup setup) => new Trainable(this);

    /// <summary>
    /// The activations for training: forward is the layer's own kernel. Each derivative but hardswish's is
    /// written in terms of the output, so backward needs nothing but what forward produced:
    /// relu' = [y &gt; 0], sigmoid' = y(1 - y), tanh' = 1 - y^2, clip' = [min &lt; y &lt; max],
    /// hardsigmoid' = alpha [0 &lt; y &lt; 1]; hardswish' reads x, as PyTorch's does: 0 below -3, 1 above 3,
    /// x/3 + 1/2 between. At a kink the gradient is PyTorch's choice too (0 for relu at 0).
    /// </summary>
    private sealed class Trainable(Activation op) : TrainLayer(op.Type, op.Name, op.InputShape, op.OutputShape)
    {
        public override void Forward(TrainContext ctx, float[] input, float[] output) => RunForward(op, ctx, input, output);

        public override void Backward(TrainContext ctx, float[] input, float[] output, float[] dOutput, float[]? dInput)
        {
            if (dInput is null) return;
            int count = ctx.Batch * InputShape.Size;
            ReadOnlySpan<float> x = input.AsSpan(0, count), y = output.AsSpan(0, count), dy = dOutput.AsSpan(0, count);
            Span<float> dx = dInput.AsSpan(0, count);
            switch (op._function)
            {
                case Function.Relu:
                    ReluGradient.Apply(y, dy, dx);
                    break;
                case Function.Sigmoid:
                    for (int i = 0; i < count; i++) dx[i] = dy[i] * y[i] * (1f - y[i]);
                    break;
                case Function.Tanh:
                    for (int i = 0; i < count; i++) dx[i] = dy[i] * (1f - y[i] * y[i]);
                    break;
                case Function.Clip:
                    for (int i = 0; i < count; i++) dx[i] = y[i] > op._lo && y[i] < op._hi ? dy[i] : 0f;
                    break;
                case Function.HardSigmoid:
                    for (int i = 0; i < count; i++) dx[i] = y[i] > 0f && y[i] < 1f ? op._slope * dy[i] : 0f;
                    break;
                default:
                    for (int i = 0; i < count; i++) dx[i] = x[i] < -3f ? 0f : x[i] <= 3f ? dy[i] * (x[i] / 3f + 0.5f) : dy[i];
                    break;
            }
        }
    }
}
