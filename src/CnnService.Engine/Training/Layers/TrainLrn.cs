using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Training.Layers;

/// <summary>
/// Local response normalisation for training, forward exactly as <see cref="Engine.Layers.Lrn"/>:
/// s_c = k + alpha/size * sum of a_j^2 over c's window, b_c = a_c * s_c^-beta. Forward keeps s for
/// backward, d a_j = dy_j * s_j^-beta - 2 beta alpha/size * a_j * sum over the channels c whose
/// window holds j of dy_c * b_c / s_c (b_c / s_c being a_c * s_c^(-beta-1)).
/// </summary>
internal sealed class TrainLrn : TrainLayer
{
    private readonly int _size;
    private readonly float _alpha, _beta, _k;

    /// <summary>s for every element of the batch, from the last forward pass.</summary>
    private readonly float[] _s;
    /// <summary>One image's dy_c * b_c / s_c, and one plane's window sum of it.</summary>
    private readonly float[] _t, _window;

    public TrainLrn(LayerSpec spec, string where, TensorShape input, int maxBatch)
        : base("lrn", spec.Name, input, input)
    {
        if (spec.Size < 1) throw new ModelFormatException($"{where}: \"size\" must be a positive integer.");
        (_size, _alpha, _beta, _k) = (spec.Size, spec.Alpha ?? CnnService.Engine.Layers.Lrn.DefaultAlpha, spec.Beta ?? CnnService.Engine.Layers.Lrn.DefaultBeta, spec.K);
        _s = new float[maxBatch * input.Size];
        _t = new float[input.Size];
        _window = new float[input.H * input.W];
    }

    public override void Forward(TrainContext ctx, float[] input, float[] output)
    {
        int c = InputShape.C, plane = InputShape.H * InputShape.W;
        Span<float> sum = _window;
        float scale = _alpha / _size;
        for (int n = 0; n < ctx.Batch; n++)
        {
            int image = n * c * plane;
            for (int ch = 0; ch < c; ch++)
            {
                // The same sums in the same order as inference, so the outputs are the same bits.
                sum.Clear();
                int from = Math.Max(0, ch - _size / 2), to = Math.Min(c - 1, ch + (_size - 1) / 2);
                for (int j = from; j <= to; j++)
                {
                    ReadOnlySpan<float> a = input.AsSpan(image + j * plane, plane);
                    for (int p = 0; p < plane; p++) sum[p] += a[p] * a[p];
                }

                int offset = image + ch * plane;
                ReadOnlySpan<float> x = input.AsSpan(offset, plane);
                Span<float> s = _s.AsSpan(offset, plane), y = output.AsSpan(offset, plane);
                for (int p = 0; p < plane; p++)
                {
                    s[p] = _k + scale * sum[p];
                    y[p] = x[p] / MathF.Pow(s[p], _beta);
                }
            }
        }
    }

    public override void Backward(TrainContext ctx, float[] input, float[] output, float[] dOutput, float[]? dInput)
    {
        if (dInput is null) return;
        int c = InputShape.C, plane = InputShape.H * InputShape.W, size = InputShape.Size;
        Span<float> window = _window, t = _t;
        float factor = 2f * _beta * _alpha / _size;
        for (int n = 0; n < ctx.Batch; n++)
        {
            int image = n * size;
            ReadOnlySpan<float> a = input.AsSpan(image, size), b = output.AsSpan(image, size), dy = dOutput.AsSpan(image, size), s = _s.AsSpan(image, size);
            Span<float> dx = dInput.AsSpan(image, size);
            for (int i = 0; i < size; i++) t[i] = dy[i] * b[i] / s[i];

            for (int j = 0; j < c; j++)
            {
                // j lies in window(c) = [c - size/2, c + (size-1)/2] exactly when c is in [j - (size-1)/2, j + size/2].
                window.Clear();
                int from = Math.Max(0, j - (_size - 1) / 2), to = Math.Min(c - 1, j + _size / 2);
                for (int ch = from; ch <= to; ch++)
                {
                    ReadOnlySpan<float> tc = t.Slice(ch * plane, plane);
                    for (int p = 0; p < plane; p++) window[p] += tc[p];
                }

                for (int p = 0; p < plane; p++)
                {
                    int i = j * plane + p;
                    dx[i] = dy[i] * MathF.Pow(s[i], -_beta) - factor * a[i] * window[p];
                }
            }
        }
    }
}
