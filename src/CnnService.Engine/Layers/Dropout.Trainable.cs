using CnnService.Engine.Training;

namespace CnnService.Engine.Layers;

public sealed partial class Dropout
{
    internal override TrainLayer ForTraining(TrainSetup setup) => new Trainable(this, setup.Index);

    /// <summary>
    /// Inverted dropout: in training each value is kept with probability 1 - rate and scaled by
    /// 1 / (1 - rate), so inference, where the layer is the identity, sees the same expected values.
    /// Whether element e of the batch is kept is a pure hash of (step seed, layer, e), not a random
    /// stream: backward recomputes the mask instead of storing it, and a run is reproducible bit for
    /// bit whatever the thread count or the order the elements are visited in.
    /// </summary>
    private sealed class Trainable : TrainLayer
    {
        private readonly double _rate;
        private readonly float _scale;
        private readonly ulong _salt;

        public Trainable(Dropout op, int index)
            : base(op.Type, op.Name, op.InputShape, op.OutputShape)
        {
            _rate = op.Rate;
            _scale = 1f / (1f - op.Rate);
            _salt = Salt(index, op.Name);
        }

        public override void Forward(TrainContext ctx, float[] input, float[] output) => Apply(ctx, input, output);

        public override void Backward(TrainContext ctx, float[] input, float[] output, float[] dOutput, float[]? dInput)
        {
            if (dInput is not null) Apply(ctx, dOutput, dInput);
        }

        /// <summary>to = mask * scale * from in training, from itself otherwise: forward and backward are the same map.</summary>
        private void Apply(TrainContext ctx, float[] from, float[] to)
        {
            int count = ctx.Batch * InputShape.Size;
            ReadOnlySpan<float> x = from.AsSpan(0, count);
            Span<float> y = to.AsSpan(0, count);
            if (!ctx.Training || _rate == 0)
            {
                x.CopyTo(y);
                return;
            }

            ulong key = Mix(ctx.StepSeed ^ _salt);
            for (int i = 0; i < count; i++) y[i] = Kept(key, i) ? x[i] * _scale : 0f;
        }

        /// <summary>A uniform draw in [0, 1) from 53 bits of the element's hash, kept when it reaches the rate.</summary>
        private bool Kept(ulong key, int element) =>
            (Mix(key + (ulong)element * 0x9E3779B97F4A7C15UL) >> 11) * (1.0 / (1UL << 53)) >= _rate;

        /// <summary>The layer's own stream: its index and its name (FNV-1a, stable across processes, unlike string.GetHashCode).</summary>
        private static ulong Salt(int index, string? name)
        {
            ulong hash = 0xCBF29CE484222325UL;
            foreach (char c in name ?? "")
            {
                hash ^= c;
                hash *= 0x100000001B3UL;
            }

            return Mix(hash ^ ((ulong)index + 1) * 0xD1B54A32D192ED03UL);
        }

        /// <summary>SplitMix64's finaliser: every input bit moves every output bit.</summary>
        private static ulong Mix(ulong z) => SplitMix64.Mix(z);
    }
}
