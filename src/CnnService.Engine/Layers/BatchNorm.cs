using System.Runtime.CompilerServices;
using System.Numerics;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>
/// Batch normalisation at inference, with the running statistics: y = (x - mean) / sqrt(var + eps) * gamma + beta,
/// folded at load time into one scale and one shift per channel. Loads PyTorch's BatchNorm2d
/// state_dict as is: weight, bias, running_mean, running_var, and num_batches_tracked (ignored).
/// </summary>
public sealed unsafe class BatchNorm : Layer
{
    private readonly float[] _scale;
    private readonly float[] _shift;

    internal BatchNorm(LayerSpec spec, string where, TensorShape input, IWeightSource weights)
        : base("batchnorm", spec.Name, input, input)
    {
        if (!(spec.Eps > 0) || !float.IsFinite(spec.Eps)) throw new ModelFormatException($"{where}: \"eps\" must be positive.");
        int c = input.C;
        float[] gamma = weights.Take($"{spec.Name}.weight", c);
        float[] beta = weights.Take($"{spec.Name}.bias", c);
        float[] mean = weights.Take($"{spec.Name}.running_mean", c);
        float[] variance = weights.Take($"{spec.Name}.running_var", c);
        weights.Ignore($"{spec.Name}.num_batches_tracked");
        Eps = spec.Eps;
        _scale = new float[c];
        _shift = new float[c];
        for (int i = 0; i < c; i++)
        {
            double s = gamma[i] / Math.Sqrt((double)variance[i] + spec.Eps);
            _scale[i] = (float)s;
            _shift[i] = (float)(beta[i] - mean[i] * s);
        }
    }

    public float Eps { get; }

    public override long Parameters => 4L * InputShape.C;

    public override long FlopsPerImage => 2L * InputShape.Size;

    internal override bool InPlace => true;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal override void Forward(ParallelJob job, int threads)
    {
        int plane = InputShape.H * InputShape.W;
        for (int n = 0; n < job.Batch; n++)
        {
            for (int c = 0; c < InputShape.C; c++)
            {
                nint offset = ((nint)n * InputShape.C + c) * plane;
                var x = new Span<float>(job.Input + offset, plane);
                var y = new Span<float>(job.Output + offset, plane);
                ScaleShift(x, y, _scale[c], _shift[c]);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScaleShift(Span<float> x, Span<float> y, float scale, float shift)
    {
        int i = 0;
        var vs = new Vector<float>(scale);
        var vb = new Vector<float>(shift);
        for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            (new Vector<float>(x[i..]) * vs + vb).CopyTo(y[i..]);
        }

        for (; i < x.Length; i++) y[i] = x[i] * scale + shift;
    }
}
