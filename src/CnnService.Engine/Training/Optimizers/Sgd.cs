using CnnService.Engine.Format;

namespace CnnService.Engine.Training.Optimizers;

/// <summary>
/// Stochastic gradient descent as PyTorch implements it: g += wd * w; with momentum
/// b = mu b + g (b = g on the first step) and g = b, or g + mu b with Nesterov; w -= lr g.
/// </summary>
public sealed class Sgd : Optimizer
{
    private readonly OptimizerOptions _options;
    private readonly float[][] _velocity;

    public Sgd(IReadOnlyList<Parameter> parameters, OptimizerOptions options) : base(parameters)
    {
        options.Validate();
        _options = options;
        _velocity = options.Momentum > 0 ? Buffers(Trainable) : [];
    }

    public override void Step(float lr)
    {
        float mu = _options.Momentum, decay = _options.WeightDecay;
        bool first = Steps == 0;
        Steps++;
        for (int p = 0; p < Trainable.Length; p++)
        {
            Span<float> w = Trainable[p].Value;
            ReadOnlySpan<float> grad = Trainable[p].Grad;
            Span<float> b = mu > 0 ? _velocity[p] : default;
            for (int i = 0; i < w.Length; i++)
            {
                float g = grad[i] + decay * w[i];
                if (mu > 0)
                {
                    b[i] = first ? g : mu * b[i] + g;
                    g = _options.Nesterov ? g + mu * b[i] : b[i];
                }

                w[i] -= lr * g;
            }
        }
    }

    public override IEnumerable<NamedTensor> ExportState() => _options.Momentum > 0 ? Export("momentum", Trainable, _velocity) : [];

    public override void ImportState(WeightSet state, long steps)
    {
        if (_options.Momentum > 0) Import("momentum", Trainable, _velocity, state);
        Steps = steps;
    }
}
