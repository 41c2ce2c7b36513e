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
    public void Activation_gradients_match_finite_differences(string type)
    {
        var spec = new LayerSpec { Type = type };

        GradientCheck.Check(GradientCheck.Build(spec, Input, Batch), GradientCheck.Context(Batch),
            GradientCheck.AwayFromZero(Batch * Input.Size, seed: 3));
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

    [Fact]
    public void Flatten_gradients_match_finite_differences()
    {
        var spec = new LayerSpec { Type = "flatten" };

        GradientCheck.Check(GradientCheck.Build(spec, Input, Batch), GradientCheck.Context(Batch), TestModels.Random(Batch * Input.Size, seed: 5));
    }
}
