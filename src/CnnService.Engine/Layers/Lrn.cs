using System.Runtime.CompilerServices;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>
/// AlexNet's local response normalisation across channels, with PyTorch's (and ONNX's) window:
/// b_c = a_c / (k + alpha/size * sum of a_j^2 for j in [c - size/2, c + (size-1)/2])^beta,
/// channels outside [0, C) contributing nothing.
/// </summary>
public sealed unsafe class Lrn : Layer
{
    internal const float DefaultAlpha = 1e-4f, DefaultBeta = 0.75f;

    private readonly int _size;
    private readonly float _alpha, _beta, _k;

    internal Lrn(LayerSpec spec, string where, TensorShape input)
        : base("lrn", spec.Name, input, input)
    {
        if (spec.Size < 1) throw new ModelFormatException($"{where}: \"size\" must be a positive integer.");
        (_size, _alpha, _beta, _k) = (spec.Size, spec.Alpha ?? Lrn.DefaultAlpha, spec.Beta ?? Lrn.DefaultBeta, spec.K);
    }

    public override long FlopsPerImage => (long)InputShape.Size * (_size + 3);

    internal override long ScratchFloats(int batch) => InputShape.H * InputShape.W;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal override void Forward(ParallelJob job, int threads)
    {
        int c = InputShape.C, plane = InputShape.H * InputShape.W;
        var sum = new Span<float>(job.Scratch, plane);
        float scale = _alpha / _size;
        for (int n = 0; n < job.Batch; n++)
        {
            float* x = job.Input + (nint)n * c * plane, y = job.Output + (nint)n * c * plane;
            for (int ch = 0; ch < c; ch++)
            {
                sum.Clear();
                int from = Math.Max(0, ch - _size / 2), to = Math.Min(c - 1, ch + (_size - 1) / 2);
                for (int j = from; j <= to; j++)
                {
                    float* a = x + (nint)j * plane;
                    for (int p = 0; p < plane; p++) sum[p] += a[p] * a[p];
                }

                float* src = x + (nint)ch * plane, dst = y + (nint)ch * plane;
                for (int p = 0; p < plane; p++) dst[p] = src[p] / MathF.Pow(_k + scale * sum[p], _beta);
            }
        }
    }
}
