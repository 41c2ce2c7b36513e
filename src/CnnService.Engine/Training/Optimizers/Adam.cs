using System.Numerics;
using System.Runtime.CompilerServices;
using CnnService.Engine.Format;

namespace CnnService.Engine.Training.Optimizers;

/// <summary>
/// Adam as Keras implements it: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, and
/// w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps), epsilon outside the bias
/// correction (Keras's "epsilon hat"). Weight decay, when set, is PyTorch's L2 term added to g.
/// </summary>
public sealed class Adam : Optimizer
{
    private readonly OptimizerOptions _options;
    private readonly float[][] _m, _v;

    public Adam(IReadOnlyList<Parameter> parameters, OptimizerOptions options) : base(parameters)
    {
        options.Validate();
        _options = options;
        _m = Buffers(Trainable);
        _v = Buffers(Trainable);
    }

    public override void Step(float lr)
    {
        Steps++;
        float b1 = _options.Beta1, b2 = _options.Beta2, eps = _options.Epsilon, decay = _options.WeightDecay;
        float stepSize = (float)(lr * Math.Sqrt(1 - Math.Pow(b2, Steps)) / (1 - Math.Pow(b1, Steps)));
        for (int p = 0; p < Trainable.Length; p++)
            Update(Trainable[p].Value, Trainable[p].Grad, _m[p], _v[p], b1, b2, eps, decay, stepSize);
    }

    /// <summary>One parameter's update, vectorised; the scalar tail is the same arithmetic, so both give the same bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Update(Span<float> w, ReadOnlySpan<float> grad, Span<float> m, Span<float> v, float b1, float b2, float eps, float decay, float stepSize)
    {
        int i = 0;
        for (; i <= w.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var wi = new Vector<float>(w[i..]);
            var g = new Vector<float>(grad[i..]) + decay * wi;
            var mi = b1 * new Vector<float>(m[i..]) + (1 - b1) * g;
            var vi = b2 * new Vector<float>(v[i..]) + (1 - b2) * (g * g);
            mi.CopyTo(m[i..]);
            vi.CopyTo(v[i..]);
            (wi - stepSize * mi / (Vector.SquareRoot(vi) + new Vector<float>(eps))).CopyTo(w[i..]);
        }

        for (; i < w.Length; i++)
        {
            float g = grad[i] + decay * w[i];
            m[i] = b1 * m[i] + (1 - b1) * g;
            v[i] = b2 * v[i] + (1 - b2) * (g * g);
            w[i] -= stepSize * m[i] / (MathF.Sqrt(v[i]) + eps);
        }
    }

    public override IEnumerable<NamedTensor> ExportState() => Export("m", Trainable, _m).Concat(Export("v", Trainable, _v));

    public override void ImportState(WeightSet state, long steps)
    {
        Import("m", Trainable, _m, state);
        Import("v", Trainable, _v, state);
        Steps = steps;
    }
}
