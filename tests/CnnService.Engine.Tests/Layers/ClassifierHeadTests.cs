using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Layers;

/// <summary>The heads ONNX classifiers end with: GlobalAveragePool over any plane, Softmax over [N, K] (a (K, 1, 1) tensor here).</summary>
public class ClassifierHeadTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 13)]
    [InlineData(13, 1)]
    [InlineData(7, 7)]
    [InlineData(6, 9)]
    [InlineData(56, 56)]
    public void Global_average_pool_takes_the_mean_of_any_plane(int h, int w)
    {
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(4, h, w), new LayerSpec { Type = "global_avgpool" }), Simd.Best, out _);
        float[] x = TestModels.Random(3 * 4 * h * w, seed: 60, scale: 5f);

        Assert.Equal(new TensorShape(4, 1, 1), model.OutputShape);
        TestModels.AssertClose(Reference.GlobalAvgPool(x, 3, 4, h * w), TestModels.Forward(model, x, 3), 1e-5f);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(10)]
    [InlineData(1000)]
    public void Softmax_over_k_values_per_item_normalises_each_item(int k)
    {
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(k, 1, 1), new LayerSpec { Type = "softmax" }), Simd.Best, out _);
        float[] x = TestModels.Random(3 * k, seed: 61, scale: 20f);

        float[] y = TestModels.Forward(model, x, 3);
        TestModels.AssertClose(Reference.Softmax(x, 3, k, 1), y, 1e-5f);
        for (int b = 0; b < 3; b++) Assert.Equal(1.0, y.Skip(b * k).Take(k).Sum(v => (double)v), 4);
    }

    [Fact]
    public void Global_average_pool_then_softmax_gives_class_probabilities()
    {
        var spec = TestModels.Spec(new TensorShape(5, 3, 4), new LayerSpec { Type = "global_avgpool" }, new LayerSpec { Type = "softmax" });
        Model model = TestModels.Build(spec, Simd.Best, out _);
        float[] x = TestModels.Random(2 * 60, seed: 62, scale: 4f);

        TestModels.AssertClose(Reference.Softmax(Reference.GlobalAvgPool(x, 2, 5, 12), 2, 5, 1), TestModels.Forward(model, x, 2), 1e-5f);
    }
}
