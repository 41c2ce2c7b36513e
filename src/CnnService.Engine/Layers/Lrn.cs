using System.Runtime.CompilerServices;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>
/// AlexNet's local response normalisation across channels, with PyTorch's (and ONNX's) window:
/// b_c = a_c / (k + alpha/size * sum of a_j^2 for j in [c - size/2, c + (size-1)/2])^beta,
/// channels outside [0, C) contributing nothing.
/// </summary>
public sealed unsafe partial class Lrn : Layer
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

    internal override void Forward(ParallelJob job, int threads)
    {
        for (int n = 0; n < job.Batch; n++)
            Normalize(job.Input + (nint)n * InputShape.Size, job.Output + (nint)n * InputShape.Size, null, job.Scratch);
    }

    /// <summary>
    /// One image: y = x * s^-beta with s = k + alpha/size * the window's sum of squares, kept in
    /// <paramref name="s"/> when not null (training's backward reads it). <paramref name="sum"/> holds one plane.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Normalize(float* x, float* y, float* s, float* sum)
    {
        int c = InputShape.C;
        int plane = InputShape.H * InputShape.W;
        var window = new Span<float>(sum, plane);
        float scale = _alpha / _size;
        for (int ch = 0; ch < c; ch++)
        {
            window.Clear();
            int from = Math.Max(0, ch - _size / 2), to = Math.Min(c - 1, ch + (_size - 1) / 2);
            for (int j = from; j <= to; j++)
            {
                float* a = x + (nint)j * plane;
                for (int p = 0; p < plane; p++) window[p] += a[p] * a[p];
            }

            nint offset = (nint)ch * plane;
            float* src = x + offset, dst = y + offset;
            for (int p = 0; p < plane; p++)
            {
                float denominator = _k + scale * window[p];
                if (s != null) s[offset + p] = denominator;
                dst[p] = src[p] / MathF.Pow(denominator, _beta);
            }
        }
    }
}
