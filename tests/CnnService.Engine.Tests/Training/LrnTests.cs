using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Training;

public class LrnTests
{
    [Theory]
    [InlineData(5, 1e-4f, 0.75f, 2f)]
    [InlineData(4, 0.5f, 0.5f, 1f)]
    public void Forward_gives_the_same_bits_as_the_inference_layer(int size, float alpha, float beta, float k)
    {
        var shape = new TensorShape(7, 3, 5);
        var spec = new LayerSpec { Type = "lrn", Size = size, Alpha = alpha, Beta = beta, K = k };
        Model model = TestModels.Build(TestModels.Spec(shape, spec), Simd.Best, out _);
        float[] x = TestModels.Random(3 * shape.Size, seed: 1, scale: 3f), y = new float[x.Length];

        GradientCheck.Build(spec, shape, 3).Forward(GradientCheck.Context(3), x, y);

        Assert.Equal(TestModels.Forward(model, x, 3), y);
    }
}
