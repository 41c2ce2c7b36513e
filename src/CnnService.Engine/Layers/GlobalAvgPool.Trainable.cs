using CnnService.Engine.Training;

namespace CnnService.Engine.Layers;

public sealed partial class GlobalAvgPool
{
    internal override TrainLayer ForTraining(TrainSetup setup) => new Trainable(this);

    /// <summary>Forward is the layer's own mean; backward spreads each plane's gradient evenly over its cells, dy / (H*W).</summary>
    private sealed class Trainable(GlobalAvgPool op) : TrainLayer(op.Type, op.Name, op.InputShape, op.OutputShape)
    {
        public override void Forward(TrainContext ctx, float[] input, float[] output) => RunForward(op, ctx, input, output);

        public override void Backward(TrainContext ctx, float[] input, float[] output, float[] dOutput, float[]? dInput)
        {
            if (dInput is null) return;
            int plane = InputShape.H * InputShape.W, planes = ctx.Batch * InputShape.C;
            for (int i = 0; i < planes; i++) dInput.AsSpan(i * plane, plane).Fill(dOutput[i] / plane);
        }
    }
}
