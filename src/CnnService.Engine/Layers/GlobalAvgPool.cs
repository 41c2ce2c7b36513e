using System.Runtime.CompilerServices;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>The mean of each channel's H x W plane: [C, H, W] to [C, 1, 1].</summary>
public sealed unsafe partial class GlobalAvgPool : Layer
{
    internal GlobalAvgPool(string? name, TensorShape input)
        : base("global_avgpool", name, input, new TensorShape(input.C, 1, 1))
    {
    }

    public override long FlopsPerImage => InputShape.Size;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal override void Forward(ParallelJob job, int threads)
    {
        int plane = InputShape.H * InputShape.W, planes = job.Batch * InputShape.C;
        for (int i = 0; i < planes; i++)
        {
            var values = new ReadOnlySpan<float>(job.Input + (nint)i * plane, plane);
            double sum = 0;
            foreach (float v in values) sum += v;
            job.Output[i] = (float)(sum / plane);
        }
    }
}
