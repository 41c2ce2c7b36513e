using System.Runtime.CompilerServices;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>
/// Softmax over the channels at each position (PyTorch's dim=1; after a dense layer, over the
/// features). Subtracting the maximum first keeps exp from overflowing, so logits of any size work.
/// </summary>
public sealed unsafe class Softmax : Layer
{
    internal Softmax(string? name, TensorShape input)
        : base("softmax", name, input, input)
    {
    }

    public override long FlopsPerImage => 3L * InputShape.Size;

    internal override bool InPlace => true;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal override void Forward(ParallelJob job, int threads)
    {
        int c = InputShape.C, plane = InputShape.H * InputShape.W;
        for (int n = 0; n < job.Batch; n++)
        {
            for (int p = 0; p < plane; p++)
            {
                float* x = job.Input + (nint)n * c * plane + p, y = job.Output + (nint)n * c * plane + p;
                float max = float.NegativeInfinity;
                for (int i = 0; i < c; i++) max = MathF.Max(max, x[(nint)i * plane]);
                float sum = 0f;
                for (int i = 0; i < c; i++)
                {
                    float e = MathF.Exp(x[(nint)i * plane] - max);
                    y[(nint)i * plane] = e;
                    sum += e;
                }

                float inv = 1f / sum;
                for (int i = 0; i < c; i++) y[(nint)i * plane] *= inv;
            }
        }
    }
}
