using CnnService.Engine.Format;
using CnnService.Engine.Runtime;

namespace CnnService.Engine.Tests.Runtime;

public sealed class WeightInitializerTests
{
    private static float[] Tensor(WeightSet weights, string name) => weights.Take(name, weights.ShapeOf(name));

    [Fact]
    public void PyTorch_init_draws_weights_and_biases_within_one_over_root_fan_in()
    {
        WeightSet weights = WeightInitializer.Initialize(Architectures.KerasMnist(), seed: 1);

        float bound = 1 / MathF.Sqrt(9); // conv1: 1 channel x 3 x 3
        Assert.All(Tensor(weights, "conv1.weight"), w => Assert.InRange(Math.Abs(w), 0, bound));
        Assert.Contains(Tensor(weights, "conv1.bias"), b => b != 0);
        Assert.Contains(Tensor(weights, "conv1.weight"), w => Math.Abs(w) > bound * 0.9f);
    }

    [Fact]
    public void Glorot_init_draws_weights_within_root_six_over_fan_in_plus_fan_out_and_zero_biases()
    {
        WeightSet weights = WeightInitializer.Initialize(Architectures.KerasMnist(), seed: 1, WeightInit.Glorot);

        float conv = MathF.Sqrt(6f / (9 + 32 * 9)), fc1 = MathF.Sqrt(6f / (5408 + 100));
        Assert.All(Tensor(weights, "conv1.weight"), w => Assert.InRange(Math.Abs(w), 0, conv));
        Assert.Contains(Tensor(weights, "conv1.weight"), w => Math.Abs(w) > conv * 0.9f);
        Assert.All(Tensor(weights, "fc1.weight"), w => Assert.InRange(Math.Abs(w), 0, fc1));
        Assert.All(Tensor(weights, "conv1.bias"), b => Assert.Equal(0, b));
        Assert.All(Tensor(weights, "fc2.bias"), b => Assert.Equal(0, b));
    }
}
