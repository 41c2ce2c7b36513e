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
public sealed unsafe partial class BatchNorm : Layer
{
    private readonly float[] _scale;
    private readonly float[] _shift;

    internal BatchNorm(LayerSpec spec, string where, TensorShape input, IWeightSource weights)
        : base("batchnorm", spec.Name, input, input)
    {
        if (!(spec.Eps > 0) || !float.IsFinite(spec.Eps)) throw new ModelFormatException($"{where}: \"eps\" must be positive.");
        if (!(spec.Momentum >= 0 && spec.Momentum <= 1)) throw new ModelFormatException($"{where}: \"momentum\" must be between 0 and 1.");
        int c = input.C;
        float[] gamma = weights.Take($"{spec.Name}.weight", c);
        float[] beta = weights.Take($"{spec.Name}.bias", c);
        float[] mean = weights.Take($"{spec.Name}.running_mean", c);
        float[] variance = weights.Take($"{spec.Name}.running_var", c);
        weights.Ignore($"{spec.Name}.num_batches_tracked");
        (Eps, Momentum) = (spec.Eps, spec.Momentum);
        _scale = new float[c];
        _shift = new float[c];
        Fold(gamma, beta, mean, variance, Eps, _scale, _shift);
    }

    public float Eps { get; }

    /// <summary>How far one training step moves the running statistics toward the batch's (PyTorch's meaning).</summary>
    public float Momentum { get; }

    /// <summary>The folded per-channel scale and shift this layer applies: what a convolution it is folded into multiplies in.</summary>
    internal ReadOnlySpan<float> Scale => _scale;

    internal ReadOnlySpan<float> Shift => _shift;

    public override long Parameters => 4L * InputShape.C;

    public override long FlopsPerImage => 2L * InputShape.Size;

    internal override bool InPlace => true;

    internal override void Forward(ParallelJob job, int threads) => Apply(job.Input, job.Output, job.Batch, _scale, _shift);

    /// <summary>scale = gamma / sqrt(var + eps) and shift = beta - mean * scale, in double: training's evaluation mode folds the same way, to the same bits.</summary>
    private static void Fold(ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> mean, ReadOnlySpan<float> variance, float eps,
        Span<float> scale, Span<float> shift)
    {
        for (int i = 0; i < scale.Length; i++)
        {
            double s = gamma[i] / Math.Sqrt((double)variance[i] + eps);
            scale[i] = (float)s;
            shift[i] = (float)(beta[i] - mean[i] * s);
        }
    }

    /// <summary>y = x * scale[c] + shift[c] over each channel's plane of <paramref name="batch"/> images.</summary>
    private void Apply(float* x, float* y, int batch, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift)
    {
        int plane = InputShape.H * InputShape.W;
        for (int n = 0; n < batch; n++)
        {
            for (int c = 0; c < InputShape.C; c++)
            {
                nint offset = ((nint)n * InputShape.C + c) * plane;
                ScaleShift(new Span<float>(x + offset, plane), new Span<float>(y + offset, plane), scale[c], shift[c]);
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
