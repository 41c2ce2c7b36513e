using CnnService.Engine.Training;

namespace CnnService.Engine.Layers;

public sealed partial class Flatten
{
    internal override TrainLayer ForTraining(TrainSetup setup) => new Trainable(this);

    /// <summary>NCHW memory is already in flatten's order: training gives every layer its own buffers, so both passes are copies.</summary>
    private sealed class Trainable(Flatten op) : TrainLayer(op.Type, op.Name, op.InputShape, op.OutputShape)
    {
        public override void Forward(TrainContext ctx, float[] input, float[] output) => RunForward(op, ctx, input, output);

        public override void Backward(TrainContext ctx, float[] input, float[] output, float[] dOutput, float[]? dInput)
        {
            if (dInput is not null) dOutput.AsSpan(0, ctx.Batch * InputShape.Size).CopyTo(dInput);
        }
    }
}
