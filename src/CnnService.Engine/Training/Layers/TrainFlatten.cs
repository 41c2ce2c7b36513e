using CnnService.Engine.Runtime;

namespace CnnService.Engine.Training.Layers;

/// <summary>[C, H, W] to [C*H*W]: NCHW memory is already in PyTorch's flatten order, so both passes are copies.</summary>
internal sealed class TrainFlatten(string? name, TensorShape input) : TrainLayer("flatten", name, input, new TensorShape(input.Size, 1, 1))
{
    public override void Forward(TrainContext ctx, float[] input, float[] output) =>
        input.AsSpan(0, ctx.Batch * InputShape.Size).CopyTo(output);

    public override void Backward(TrainContext ctx, float[] input, float[] output, float[] dOutput, float[]? dInput)
    {
        if (dInput is not null) dOutput.AsSpan(0, ctx.Batch * InputShape.Size).CopyTo(dInput);
    }
}
