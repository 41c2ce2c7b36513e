using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>
/// Softmax over the channels at each position (PyTorch's dim=1; after a dense layer, over the
/// features), by the one <see cref="SoftmaxKernel"/>.
/// </summary>
public sealed unsafe class Softmax : Layer
{
    internal Softmax(string? name, TensorShape input)
        : base("softmax", name, input, input)
    {
    }

    public override long FlopsPerImage => 3L * InputShape.Size;

    internal override bool InPlace => true;

    internal override void Forward(ParallelJob job, int threads)
    {
        int c = InputShape.C, plane = InputShape.H * InputShape.W;
        for (int n = 0; n < job.Batch; n++)
        {
            nint image = (nint)n * c * plane;
            for (int p = 0; p < plane; p++) SoftmaxKernel.Apply(job.Input + image + p, job.Output + image + p, c, plane);
        }
    }
}
