using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;
using CnnService.Engine.Training;

namespace CnnService.Engine.Tests.Training;

public class BatchNormTests
{
    private static readonly TensorShape Shape = new(3, 4, 5);
    private const int Batch = 4, Plane = 20, M = Batch * Plane;

    [Fact]
    public void Training_normalises_each_channel_with_the_batch_statistics()
    {
        TrainLayer layer = BatchNorm(out _);
        float[] x = TestModels.Random(Batch * Shape.Size, seed: 1, scale: 3f);

        float[] y = Run(layer, x, GradientCheck.Context(Batch));

        float[] gamma = layer.Parameters[0].Value, beta = layer.Parameters[1].Value;
        for (int c = 0; c < 3; c++)
        {
            (double mean, double variance) = Statistics(x, c);
            var expected = Channel(x, c).Select(v => (float)((v - mean) / Math.Sqrt(variance + 1e-5) * gamma[c] + beta[c])).ToArray();
            TestModels.AssertClose(expected, Channel(y, c), 1e-5f);
        }
    }

    [Fact]
    public void Training_moves_the_running_statistics_as_pytorch_does()
    {
        TrainLayer layer = BatchNorm(out WeightSet weights, momentum: 0.25f);
        float[] mean0 = weights.Take("bn.running_mean", 3), var0 = weights.Take("bn.running_var", 3);
        float[] x = TestModels.Random(Batch * Shape.Size, seed: 2, scale: 3f);

        Run(layer, x, GradientCheck.Context(Batch));

        for (int c = 0; c < 3; c++)
        {
            (double mean, double variance) = Statistics(x, c);
            Assert.Equal(0.75 * mean0[c] + 0.25 * mean, layer.Parameters[2].Value[c], 1e-5);
            Assert.Equal(0.75 * var0[c] + 0.25 * variance * M / (M - 1), layer.Parameters[3].Value[c], 1e-5);
        }
    }

    [Fact]
    public void Evaluation_leaves_the_running_statistics_alone()
    {
        TrainLayer layer = BatchNorm(out _);
        float[] mean = (float[])layer.Parameters[2].Value.Clone(), variance = (float[])layer.Parameters[3].Value.Clone();

        Run(layer, TestModels.Random(Batch * Shape.Size, seed: 3), GradientCheck.Context(Batch, training: false));

        Assert.Equal(mean, layer.Parameters[2].Value);
        Assert.Equal(variance, layer.Parameters[3].Value);
    }

    [Fact]
    public void Evaluation_equals_the_inference_layer()
    {
        TrainLayer layer = BatchNorm(out WeightSet weights);
        Model model = Model.Create(TestModels.Spec(Shape, new LayerSpec { Type = "batchnorm", Name = "bn" }), weights);
        float[] x = TestModels.Random(Batch * Shape.Size, seed: 4, scale: 3f);

        TestModels.AssertClose(TestModels.Forward(model, x, Batch), Run(layer, x, GradientCheck.Context(Batch, training: false)), 1e-6f);
    }

    [Fact]
    public void Only_gamma_and_beta_are_trainable()
    {
        TrainLayer layer = BatchNorm(out _);

        Assert.Equal(["bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"], layer.Parameters.Select(p => p.Name));
        Assert.Equal([true, true, false, false], layer.Parameters.Select(p => p.Trainable));
    }

    [Fact]
    public void One_value_per_channel_cannot_be_normalised_in_training()
    {
        TrainLayer layer = GradientCheck.Build(new LayerSpec { Type = "batchnorm", Name = "bn" }, new TensorShape(3, 1, 1), 1, GradientCheckTests.BatchNormWeights(3));

        Assert.Throws<InvalidOperationException>(() => layer.Forward(GradientCheck.Context(1), new float[3], new float[3]));
    }

    private static TrainLayer BatchNorm(out WeightSet weights, float momentum = 0.1f)
    {
        weights = GradientCheckTests.BatchNormWeights(3);
        return GradientCheck.Build(new LayerSpec { Type = "batchnorm", Name = "bn", Momentum = momentum }, Shape, Batch, GradientCheckTests.BatchNormWeights(3));
    }

    private static float[] Run(TrainLayer layer, float[] x, TrainContext ctx)
    {
        var y = new float[x.Length];
        layer.Forward(ctx, x, y);
        return y;
    }

    private static float[] Channel(float[] values, int c) =>
        Enumerable.Range(0, Batch).SelectMany(n => values.Skip((n * 3 + c) * Plane).Take(Plane)).ToArray();

    private static (double Mean, double Variance) Statistics(float[] x, int c)
    {
        float[] values = Channel(x, c);
        double mean = values.Average(v => (double)v);
        return (mean, values.Average(v => (v - mean) * (v - mean)));
    }
}
