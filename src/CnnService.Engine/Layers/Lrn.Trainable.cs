using CnnService.Engine.Training;

namespace CnnService.Engine.Layers;

public sealed partial class Lrn
{
    internal override TrainLayer ForTraining(TrainSetup setup) => new Trainable(this, setup.MaxBatch);

    /// <summary>
    /// Local response normalisation for training: forward is the layer's own <see cref="Normalize"/>,
    /// keeping s for backward: d a_j = dy_j * s_j^-beta - 2 beta alpha/size * a_j * sum over the channels c
    /// whose window holds j of dy_c * b_c / s_c (b_c / s_c being a_c * s_c^(-beta-1)).
    /// </summary>
    private sealed unsafe class Trainable : TrainLayer
    {
        private readonly Lrn _op;

        /// <summary>s for every element of the batch, from the last forward pass.</summary>
        private readonly float[] _s;
        /// <summary>One image's dy_c * b_c / s_c, and one plane's window sum of it.</summary>
        private readonly float[] _t, _window;

        public Trainable(Lrn op, int maxBatch)
            : base(op.Type, op.Name, op.InputShape, op.OutputShape)
        {
            _op = op;
            _s = new float[maxBatch * InputShape.Size];
            _t = new float[InputShape.Size];
            _window = new float[InputShape.H * InputShape.W];
        }

        public override void Forward(TrainContext ctx, float[] input, float[] output)
        {
            fixed (float* x = input, y = output, s = _s, sum = _window)
            {
                for (int n = 0; n < ctx.Batch; n++)
                {
                    nint image = (nint)n * InputShape.Size;
                    _op.Normalize(x + image, y + image, s + image, sum);
                }
            }
        }

        public override void Backward(TrainContext ctx, float[] input, float[] output, float[] dOutput, float[]? dInput)
        {
            if (dInput is null) return;
            int c = InputShape.C, plane = InputShape.H * InputShape.W, size = InputShape.Size, window = _op._size;
            Span<float> sums = _window, t = _t;
            float beta = _op._beta, factor = 2f * beta * _op._alpha / window;
            for (int n = 0; n < ctx.Batch; n++)
            {
                int image = n * size;
                ReadOnlySpan<float> a = input.AsSpan(image, size), b = output.AsSpan(image, size), dy = dOutput.AsSpan(image, size), s = _s.AsSpan(image, size);
                Span<float> dx = dInput.AsSpan(image, size);
                for (int i = 0; i < size; i++) t[i] = dy[i] * b[i] / s[i];

                for (int j = 0; j < c; j++)
                {
                    // j lies in window(c) = [c - size/2, c + (size-1)/2] exactly when c is in [j - (size-1)/2, j + size/2].
                    sums.Clear();
                    int from = Math.Max(0, j - (window - 1) / 2), to = Math.Min(c - 1, j + window / 2);
                    for (int ch = from; ch <= to; ch++)
                    {
                        ReadOnlySpan<float> tc = t.Slice(ch * plane, plane);
                        for (int p = 0; p < plane; p++) sums[p] += tc[p];
                    }

                    for (int p = 0; p < plane; p++)
                    {
                        int i = j * plane + p;
                        dx[i] = dy[i] * MathF.Pow(s[i], -beta) - factor * a[i] * sums[p];
                    }
                }
            }
        }
    }
}
