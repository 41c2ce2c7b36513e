using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;
using CnnService.Engine.Training;

namespace CnnService.Engine.Tests.Training;

public class DropoutTests
{
    private static readonly TensorShape Shape = new(10, 20, 25);

    [Fact]
    public void Evaluation_is_the_identity()
    {
        TrainLayer layer = Dropout(0.5f);
        float[] x = TestModels.Random(2 * Shape.Size, seed: 1);

        Assert.Equal(x, Run(layer, x, GradientCheck.Context(2, training: false)));
    }

    [Fact]
    public void Training_keeps_one_minus_rate_of_the_values_scaled_by_its_inverse()
    {
        TrainLayer layer = Dropout(0.3f);
        float[] x = TestModels.Random(2 * Shape.Size, seed: 2).Select(v => v + 2f).ToArray();   // never zero

        float[] y = Run(layer, x, GradientCheck.Context(2));

        int kept = 0;
        for (int i = 0; i < x.Length; i++)
        {
            if (y[i] == 0f) continue;
            kept++;
            Assert.Equal(x[i] / 0.7f, y[i], 1e-5f);
        }

        Assert.Equal(0.7, (double)kept / x.Length, 0.01);   // 10,000 draws: 4.6 standard deviations
    }

    [Fact]
    public void The_same_step_seed_gives_the_same_mask_whatever_the_thread_count()
    {
        float[] x = TestModels.Random(2 * Shape.Size, seed: 3);

        float[] one = Run(Dropout(0.5f), x, GradientCheck.Context(2, threads: 1, stepSeed: 7));
        float[] two = Run(Dropout(0.5f), x, GradientCheck.Context(2, threads: 2, stepSeed: 7));

        Assert.Equal(one, two);
    }

    [Fact]
    public void Another_step_seed_gives_another_mask()
    {
        TrainLayer layer = Dropout(0.5f);
        float[] x = TestModels.Random(2 * Shape.Size, seed: 4);

        Assert.NotEqual(Run(layer, x, GradientCheck.Context(2, stepSeed: 7)), Run(layer, x, GradientCheck.Context(2, stepSeed: 8)));
    }

    [Fact]
    public void Two_dropout_layers_draw_different_masks_in_the_same_step()
    {
        var spec = new LayerSpec { Type = "dropout", Name = "drop", Rate = 0.5f };
        var weights = WeightSet.FromTensors([]);
        TrainLayer first = TrainLayer.Create(spec, 1, Shape, weights, 2, 1), second = TrainLayer.Create(spec, 3, Shape, weights, 2, 1);
        float[] x = TestModels.Random(2 * Shape.Size, seed: 5);

        Assert.NotEqual(Run(first, x, GradientCheck.Context(2)), Run(second, x, GradientCheck.Context(2)));
    }

    [Fact]
    public void Backward_passes_the_gradient_through_the_forward_mask()
    {
        TrainLayer layer = Dropout(0.5f);
        TrainContext ctx = GradientCheck.Context(2);
        float[] ones = Enumerable.Repeat(1f, 2 * Shape.Size).ToArray(), dy = TestModels.Random(ones.Length, seed: 6);
        float[] mask = Run(layer, ones, ctx), dx = new float[dy.Length];

        layer.Backward(ctx, ones, mask, dy, dx);

        Assert.Equal(mask.Select((m, i) => m * dy[i]).ToArray(), dx);
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(-0.1f)]
    [InlineData(float.NaN)]
    public void A_rate_outside_0_to_1_is_refused(float rate)
    {
        var e = Assert.Throws<ModelFormatException>(() => Dropout(rate));
        Assert.Contains("rate", e.Message);
    }

    private static TrainLayer Dropout(float rate) => GradientCheck.Build(new LayerSpec { Type = "dropout", Rate = rate }, Shape, 2);

    private static float[] Run(TrainLayer layer, float[] x, TrainContext ctx)
    {
        var y = new float[x.Length];
        layer.Forward(ctx, x, y);
        return y;
    }
}
