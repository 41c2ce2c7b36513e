using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Training;

/// <summary>Every training layer's backward pass agrees with finite differences of its forward pass.</summary>
public class GradientCheckTests
{
    private static readonly TensorShape Input = new(3, 7, 6);
    private const int Batch = 3;

    [Theory]
    [InlineData(3, 3, 1, 1, 1, 1, false, true, 1)]   // stride 1, zero padding
    [InlineData(3, 3, 2, 2, 1, 1, false, true, 1)]   // stride 2
    [InlineData(3, 3, 1, 1, 1, 1, true, true, 1)]    // reflect padding
    [InlineData(3, 3, 2, 2, 2, 1, true, true, 2)]    // reflect, stride 2, two threads summing partial weight gradients
    [InlineData(3, 3, 1, 1, 0, 0, false, false, 1)]  // no bias, no padding
    [InlineData(1, 1, 1, 1, 0, 0, false, true, 1)]   // 1x1
    [InlineData(3, 2, 2, 1, 1, 0, false, true, 2)]   // non-square kernel and stride
    public void Conv2d_gradients_match_finite_differences(int kh, int kw, int sh, int sw, int ph, int pw, bool reflect, bool bias, int threads)
    {
        var spec = new LayerSpec
        {
            Type = "conv2d", Name = "conv", Filters = 4, Kernel = new Pair(kh, kw), Stride = new Pair(sh, sw),
            Padding = Padding.Of(ph, pw), PaddingMode = reflect ? "reflect" : "zeros", UseBias = bias,
        };

        GradientCheck.Check(GradientCheck.Build(spec, Input, Batch, threads: threads), GradientCheck.Context(Batch, threads: threads),
            TestModels.Random(Batch * Input.Size, seed: 1));
    }

    [Theory]
    [InlineData(true, 1)]
    [InlineData(false, 1)]
    [InlineData(true, 2)]
    public void Dense_gradients_match_finite_differences(bool bias, int threads)
    {
        var spec = new LayerSpec { Type = "dense", Name = "fc", Units = 5, UseBias = bias };

        GradientCheck.Check(GradientCheck.Build(spec, Input, Batch, threads: threads), GradientCheck.Context(Batch, threads: threads),
            TestModels.Random(Batch * Input.Size, seed: 2));
    }

    [Theory]
    [InlineData("relu")]
    [InlineData("sigmoid")]
    [InlineData("tanh")]
    [InlineData("hardswish")]   // |x| <= 1: the curved middle
    public void Activation_gradients_match_finite_differences(string type)
    {
        var spec = new LayerSpec { Type = type };

        GradientCheck.Check(GradientCheck.Build(spec, Input, Batch), GradientCheck.Context(Batch),
            GradientCheck.AwayFromZero(Batch * Input.Size, seed: 3));
    }

    [Theory]
    [InlineData("""{ "type": "clip", "min": -0.275, "max": 0.625 }""")]               // both bounds inside the values, off their 0.05 grid
    [InlineData("""{ "type": "clip", "min": -0.525 }""")]                             // no upper bound
    [InlineData("""{ "type": "hardsigmoid", "alpha": 1.5, "beta": 0.5 }""")]          // saturates on both sides, kinks at +-1/3
    public void Clipping_activation_gradients_match_finite_differences(string json)
    {
        GradientCheck.Check(GradientCheck.Build(LayerJson.Parse(json), Input, Batch), GradientCheck.Context(Batch),
            GradientCheck.Distinct(Batch * Input.Size, seed: 3));
    }

    [Theory]
    [InlineData("maxpool2d", 2, 2, 2, 2, 0, 0)]
    [InlineData("maxpool2d", 3, 3, 2, 2, 1, 1)]   // overlapping windows, padding
    [InlineData("maxpool2d", 3, 2, 1, 2, 1, 1)]
    [InlineData("avgpool2d", 2, 2, 2, 2, 0, 0)]
    [InlineData("avgpool2d", 3, 3, 2, 2, 1, 1)]   // border windows average fewer cells
    [InlineData("avgpool2d", 3, 2, 2, 1, 1, 0)]
    public void Pooling_gradients_match_finite_differences(string type, int kh, int kw, int sh, int sw, int ph, int pw)
    {
        var spec = new LayerSpec { Type = type, Kernel = new Pair(kh, kw), Stride = new Pair(sh, sw), Padding = Padding.Of(ph, pw) };

        GradientCheck.Check(GradientCheck.Build(spec, Input, Batch), GradientCheck.Context(Batch),
            GradientCheck.Distinct(Batch * Input.Size, seed: 4));
    }

    [Theory]
    [InlineData("""{ "type": "maxpool2d", "kernel": 2, "stride": 2, "ceil_mode": true }""")]                            // a last, partial row of windows
    [InlineData("""{ "type": "maxpool2d", "kernel": 3, "stride": 2, "padding": 1, "ceil_mode": true }""")]
    [InlineData("""{ "type": "avgpool2d", "kernel": 2, "stride": 2, "ceil_mode": true }""")]                            // partial windows average fewer cells
    [InlineData("""{ "type": "avgpool2d", "kernel": 3, "stride": 2, "padding": 1, "count_include_pad": true }""")]      // the padding counts in the divisor
    [InlineData("""{ "type": "avgpool2d", "kernel": 3, "stride": 2, "padding": 1, "ceil_mode": true, "count_include_pad": true }""")]
    public void Pooling_gradients_match_finite_differences_with_ceil_mode_and_count_include_pad(string json)
    {
        GradientCheck.Check(GradientCheck.Build(LayerJson.Parse(json), Input, Batch), GradientCheck.Context(Batch),
            GradientCheck.Distinct(Batch * Input.Size, seed: 4));
    }

    [Fact]
    public void Flatten_gradients_match_finite_differences()
    {
        var spec = new LayerSpec { Type = "flatten" };

        GradientCheck.Check(GradientCheck.Build(spec, Input, Batch), GradientCheck.Context(Batch), TestModels.Random(Batch * Input.Size, seed: 5));
    }

    [Fact]
    public void Global_avgpool_gradients_match_finite_differences()
    {
        var spec = new LayerSpec { Type = "global_avgpool" };

        GradientCheck.Check(GradientCheck.Build(spec, Input, Batch), GradientCheck.Context(Batch), TestModels.Random(Batch * Input.Size, seed: 6));
    }

    [Fact]
    public void Dropout_gradients_match_finite_differences_in_training()
    {
        var spec = new LayerSpec { Type = "dropout", Rate = 0.4f };

        GradientCheck.Check(GradientCheck.Build(spec, Input, Batch), GradientCheck.Context(Batch), TestModels.Random(Batch * Input.Size, seed: 7));
    }

    [Theory]
    [InlineData(5, 0.5f, 0.75f, 2f)]
    [InlineData(4, 1f, 0.5f, 1f)]      // even size: the window reaches one further back than forward
    [InlineData(1, 2f, 1f, 1f)]
    [InlineData(9, 0.8f, 0.75f, 1f)]   // wider than the channels
    public void Lrn_gradients_match_finite_differences(int size, float alpha, float beta, float k)
    {
        var shape = new TensorShape(7, 3, 4);
        var spec = new LayerSpec { Type = "lrn", Size = size, Alpha = alpha, Beta = beta, K = k };

        GradientCheck.Check(GradientCheck.Build(spec, shape, Batch), GradientCheck.Context(Batch), TestModels.Random(Batch * shape.Size, seed: 8, scale: 2f));
    }

    [Theory]
    [InlineData(3, 4, 5, true)]    // BatchNorm2d, batch statistics
    [InlineData(5, 1, 1, true)]    // BatchNorm1d after a dense layer
    [InlineData(3, 4, 5, false)]   // evaluation: running statistics are constants
    public void Batchnorm_gradients_match_finite_differences(int c, int h, int w, bool training)
    {
        var shape = new TensorShape(c, h, w);
        var spec = new LayerSpec { Type = "batchnorm", Name = "bn" };

        GradientCheck.Check(GradientCheck.Build(spec, shape, 4, BatchNormWeights(c)), GradientCheck.Context(4, training),
            TestModels.Random(4 * shape.Size, seed: 9, scale: 2f));
    }

    /// <summary>gamma, beta and running statistics far from the identity, so each term of the gradient shows.</summary>
    internal static WeightSet BatchNormWeights(int c) => WeightSet.FromTensors(
    [
        new NamedTensor("bn.weight", [c], TestModels.Random(c, seed: 20, scale: 2f)),
        new NamedTensor("bn.bias", [c], TestModels.Random(c, seed: 21)),
        new NamedTensor("bn.running_mean", [c], TestModels.Random(c, seed: 22)),
        new NamedTensor("bn.running_var", [c], TestModels.Random(c, seed: 23).Select(v => 0.5f + MathF.Abs(v)).ToArray()),
    ]);
}
