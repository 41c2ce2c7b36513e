using CnnService.Engine.Runtime;

namespace CnnService.Engine.Training.Layers;

/// <summary>
/// The mean of each channel's H x W plane, [C, H, W] to [C, 1, 1], summed in double as at
/// inference; backward spreads each plane's gradient evenly over its cells, dy / (H*W).
/// </summary>
internal sealed class TrainGlobalAvgPool(string? name, TensorShape input)
    : TrainLayer("global_avgpool", name, input, new TensorShape(input.C, 1, 1))
{
    public override void Forward(TrainContext ctx, float[] input, float[] output)
    {
        int plane = InputShape.H * InputShape.W, planes = ctx.Batch * InputShape.C;
        for (int i = 0; i < planes; i++)
        {
            ReadOnlySpan<float> values = input.AsSpan(i * plane, plane);
            double sum = 0;
            for (int p = 0; p < plane; p++) sum += values[p];
            output[i] = (float)(sum / plane);
        }
    }

    public override void Backward(TrainContext ctx, float[] input, float[] output, float[] dOutput, float[]? dInput)
    {
        if (dInput is null) return;
        int plane = InputShape.H * InputShape.W, planes = ctx.Batch * InputShape.C;
        for (int i = 0; i < planes; i++) dInput.AsSpan(i * plane, plane).Fill(dOutput[i] / plane);
    }
}
