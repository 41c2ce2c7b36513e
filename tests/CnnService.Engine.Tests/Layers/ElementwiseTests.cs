using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Layers;

public class ElementwiseTests
{
    public static IEnumerable<object[]> Cases() =>
        from level in TestModels.SimdLevels() from type in new[] { "relu", "sigmoid", "tanh" } select new object[] { type, level[0] };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Activation_matches_its_definition(string type, SimdLevel simd)
    {
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(3, 5, 7), new LayerSpec { Type = type }), simd, out _);
        float[] x = TestModels.Random(17 * 105, seed: 10, scale: 12f);   // batch 17; odd sizes leave vector tails
        Func<double, double> f = type switch { "relu" => v => Math.Max(v, 0), "sigmoid" => v => 1 / (1 + Math.Exp(-v)), _ => Math.Tanh };

        TestModels.AssertClose(Reference.Map(x, f), TestModels.Forward(model, x, 17));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Activation_saturates_without_nan_at_extremes(string type, SimdLevel simd)
    {
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(17, 1, 1), new LayerSpec { Type = type }), simd, out _);
        float[] x = [-1e30f, -500f, -89f, -88f, -20f, -1e-20f, 0f, 1e-20f, 20f, 88f, 89f, 500f, 1e30f, -3f, 3f, 0.5f, -0.5f];

        float[] y = TestModels.Forward(model, x, 1);
        Assert.All(y, v => Assert.True(float.IsFinite(v), $"{type} gave {v}"));
        Assert.Equal(type == "relu" ? 1e30f : 1f, y[12]);
    }

    [Fact]
    public void Softmax_normalises_each_item_and_survives_huge_logits()
    {
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(4, 1, 1), new LayerSpec { Type = "softmax" }), Simd.Best, out _);
        float[] x = [1f, 2f, 3f, 4f, 1000f, 1000f, -1000f, 0f];

        float[] y = TestModels.Forward(model, x, 2);
        TestModels.AssertClose(Reference.Softmax(x, 2, 4, 1), y, 1e-6f);
        Assert.Equal(0.5f, y[4], 6);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(17, 3)]
    public void Softmax_on_a_feature_map_runs_over_channels_at_each_position(int batch, int channels)
    {
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(channels, 3, 5), new LayerSpec { Type = "softmax" }), Simd.Best, out _);
        float[] x = TestModels.Random(batch * channels * 15, seed: 11, scale: 5f);

        TestModels.AssertClose(Reference.Softmax(x, batch, channels, 15), TestModels.Forward(model, x, batch));
    }

    [Fact]
    public void Dropout_and_flatten_pass_values_through()
    {
        Model model = TestModels.Build(
            TestModels.Spec(new TensorShape(2, 3, 3), new LayerSpec { Type = "dropout", Rate = 0.5f }, new LayerSpec { Type = "flatten" }),
            Simd.Best, out _);
        float[] x = TestModels.Random(18, seed: 12);

        Assert.Equal(x, TestModels.Forward(model, x, 1));
        Assert.Equal(new TensorShape(18, 1, 1), model.OutputShape);
    }

    [Fact]
    public void Forward_never_writes_into_the_callers_input()
    {
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(8, 1, 1), new LayerSpec { Type = "relu" }), Simd.Best, out _);
        float[] x = TestModels.Random(8, seed: 13);
        float[] copy = (float[])x.Clone();

        TestModels.Forward(model, x, 1);
        Assert.Equal(copy, x);
    }
}
