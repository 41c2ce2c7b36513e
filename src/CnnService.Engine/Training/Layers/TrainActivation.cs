using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Training.Layers;

/// <summary>
/// relu, sigmoid and tanh for training. Each derivative is written in terms of the output, so
/// backward needs nothing but what forward produced: relu' = [y &gt; 0], sigmoid' = y(1 - y),
/// tanh' = 1 - y^2.
/// </summary>
internal sealed class TrainActivation : TrainLayer
{
    public TrainActivation(string type, string? name, TensorShape shape)
        : base(type, name, shape, shape)
    {
        if (type is not ("relu" or "sigmoid" or "tanh")) throw new ArgumentException($"not an activation: {type}", nameof(type));
    }

    public override void Forward(TrainContext ctx, float[] input, float[] output)
    {
        int count = ctx.Batch * InputShape.Size;
        ReadOnlySpan<float> x = input.AsSpan(0, count);
        Span<float> y = output.AsSpan(0, count);
        switch (Type)
        {
            case "relu":
                ReluGradient.Forward(x, y);
                break;
            case "sigmoid":
                for (int i = 0; i < count; i++) y[i] = 1f / (1f + MathF.Exp(-x[i]));
                break;
            default:
                for (int i = 0; i < count; i++) y[i] = MathF.Tanh(x[i]);
                break;
        }
    }

    public override void Backward(TrainContext ctx, float[] input, float[] output, float[] dOutput, float[]? dInput)
    {
        if (dInput is null) return;
        int count = ctx.Batch * InputShape.Size;
        ReadOnlySpan<float> y = output.AsSpan(0, count), dy = dOutput.AsSpan(0, count);
        Span<float> dx = dInput.AsSpan(0, count);
        switch (Type)
        {
            case "relu":
                ReluGradient.Apply(y, dy, dx);
                break;
            case "sigmoid":
                for (int i = 0; i < count; i++) dx[i] = dy[i] * y[i] * (1f - y[i]);
                break;
            default:
                for (int i = 0; i < count; i++) dx[i] = dy[i] * (1f - y[i] * y[i]);
                break;
        }
    }
}
