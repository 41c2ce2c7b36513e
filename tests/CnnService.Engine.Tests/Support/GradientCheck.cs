using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Training;

namespace CnnService.Engine.Tests.Support;

/// <summary>
/// Holds a training layer's backward pass to finite differences. The layer runs alone under the
/// scalar loss L = sum(output * R) for a fixed random R, so d L / d output = R; every input value
/// and every trainable parameter value is nudged by ±eps, L recomputed (summed in double), and
/// the central difference compared with what Backward wrote. Float32 forward passes limit the
/// agreement to about 1e-3, so each entry may differ by a relative 1e-2 of itself or of a
/// twentieth of the tensor's largest gradient, whichever is larger.
/// </summary>
internal static class GradientCheck
{
    /// <summary>The training layer for <paramref name="layer"/> on <paramref name="input"/>, with seeded random weights unless given.</summary>
    public static TrainLayer Build(LayerSpec layer, TensorShape input, int maxBatch, WeightSet? weights = null, int threads = 1) =>
        TrainLayer.Create(layer, 0, input, weights ?? WeightInitializer.Initialize(TestModels.Spec(input, layer), 1), maxBatch, threads);

    public static TrainContext Context(int batch, bool training = true, int threads = 1, ulong stepSeed = 42) =>
        new(threads, Simd.Best) { Batch = batch, Training = training, StepSeed = stepSeed };

    /// <summary>Values of magnitude 0.2 to 1, never near zero (relu's kink).</summary>
    public static float[] AwayFromZero(int count, int seed)
    {
        float[] values = TestModels.Random(count, seed);
        for (int i = 0; i < count; i++) values[i] = MathF.CopySign(0.2f + 0.8f * MathF.Abs(values[i]), values[i]);
        return values;
    }

    /// <summary>Values 0.05 apart in random order: a nudge of 0.01 never creates a tie (max pooling's kink).</summary>
    public static float[] Distinct(int count, int seed)
    {
        var random = new Random(seed);
        float[] values = Enumerable.Range(0, count).Select(i => (i - count / 2) * 0.05f).ToArray();
        random.Shuffle(values);
        return values;
    }

    /// <summary>Checks d L / d input and every trainable parameter's gradient of <paramref name="layer"/> at <paramref name="x"/>.</summary>
    public static void Check(TrainLayer layer, TrainContext ctx, float[] x, double eps = 1e-2, double tolerance = 1e-2)
    {
        Assert.Equal(ctx.Batch * layer.InputShape.Size, x.Length);
        float[] y = new float[ctx.Batch * layer.OutputShape.Size], r = TestModels.Random(y.Length, seed: 99), dx = new float[x.Length];
        layer.Forward(ctx, x, y);
        layer.Backward(ctx, x, y, r, dx);
        var gradients = layer.Parameters.Where(p => p.Trainable).Select(p => (p.Name, p.Value, Grad: (float[])p.Grad.Clone())).ToList();

        double Loss()
        {
            layer.Forward(ctx, x, y);
            double sum = 0;
            for (int i = 0; i < y.Length; i++) sum += (double)y[i] * r[i];
            return sum;
        }

        Compare("input", dx, x, Loss, eps, tolerance);
        foreach (var (name, value, grad) in gradients) Compare(name, grad, value, Loss, eps, tolerance);
    }

    /// <summary>Holds <paramref name="analytic"/> to central differences of <paramref name="loss"/> over each of <paramref name="values"/>.</summary>
    public static void Compare(string what, float[] analytic, float[] values, Func<double> loss, double eps, double tolerance)
    {
        var numeric = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            float saved = values[i], plus = (float)(saved + eps), minus = (float)(saved - eps);
            values[i] = plus;
            double up = loss();
            values[i] = minus;
            double down = loss();
            values[i] = saved;
            numeric[i] = (up - down) / ((double)plus - minus);
        }

        double floor = Math.Max(0.05 * numeric.Max(Math.Abs), 1e-5);
        for (int i = 0; i < values.Length; i++)
        {
            double error = Math.Abs(analytic[i] - numeric[i]);
            if (!(error <= tolerance * Math.Max(Math.Abs(numeric[i]), floor)))
                Assert.Fail($"d L / d {what}[{i}]: backward gave {analytic[i]}, finite differences {numeric[i]} (error {error}).");
        }
    }
}
