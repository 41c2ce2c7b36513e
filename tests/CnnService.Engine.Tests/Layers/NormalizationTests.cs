using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Layers;

public class NormalizationTests
{
    [Theory]
    [InlineData(5, 1e-4f, 0.75f, 2f, 7, 17)]   // AlexNet's settings
    [InlineData(4, 0.1f, 0.5f, 1f, 7, 1)]      // even size: the window reaches one further back than forward
    [InlineData(1, 1f, 1f, 1f, 3, 17)]
    [InlineData(5, 1e-4f, 0.75f, 2f, 1, 1)]    // one channel: the window holds only itself
    public void Lrn_matches_pytorchs_window(int size, float alpha, float beta, float k, int channels, int batch)
    {
        var layer = new LayerSpec { Type = "lrn", Size = size, Alpha = alpha, Beta = beta, K = k };
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(channels, 3, 5), layer), Simd.Best, out _);
        float[] x = TestModels.Random(batch * channels * 15, seed: 14, scale: 3f);

        TestModels.AssertClose(Reference.Lrn(x, batch, channels, 15, size, alpha, beta, k), TestModels.Forward(model, x, batch));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    public void Batchnorm_uses_the_running_statistics(int batch)
    {
        var spec = TestModels.Spec(new TensorShape(3, 3, 5), new LayerSpec { Type = "batchnorm", Name = "bn", Eps = 1e-3f });
        float[] gamma = [1.5f, -0.5f, 2f], beta = [0.1f, 0.2f, -0.3f], mean = [0.5f, -1f, 0f], variance = [4f, 0.25f, 1f];
        var weights = WeightSet.FromTensors(
        [
            new NamedTensor("bn.weight", [3], gamma), new NamedTensor("bn.bias", [3], beta),
            new NamedTensor("bn.running_mean", [3], mean), new NamedTensor("bn.running_var", [3], variance),
        ]);
        Model model = Model.Create(spec, weights);
        float[] x = TestModels.Random(batch * 45, seed: 15, scale: 4f);

        TestModels.AssertClose(Reference.BatchNorm(x, batch, 3, 15, gamma, beta, mean, variance, 1e-3), TestModels.Forward(model, x, batch));
    }
}
