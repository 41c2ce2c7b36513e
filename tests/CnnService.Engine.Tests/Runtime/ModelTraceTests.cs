using CnnService.Engine.Format;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Runtime;

public class ModelTraceTests
{
    [Theory]
    [InlineData("keras-mnist")]
    [InlineData("lenet5")]
    [InlineData("tinyvgg")]
    [InlineData("small-vgg")]
    public void Last_traced_output_equals_the_forward_pass(string arch)
    {
        ModelSpec spec = Architectures.Get(arch);
        Model model = Model.Create(spec, WeightInitializer.Initialize(spec, 2), new EngineOptions { Threads = 2 });
        float[] x = TestModels.Random(model.InputShape.Size, seed: 3);

        float[][] trace = model.Trace(x);

        Assert.Equal(model.Layers.Count, trace.Length);
        for (int i = 0; i < trace.Length; i++) Assert.Equal(model.Layers[i].OutputShape.Size, trace[i].Length);
        TestModels.AssertClose(TestModels.Forward(model, x, 1), trace[^1], 1e-5f);
    }

    [Theory]
    [InlineData("keras-mnist")]
    [InlineData("tinyvgg")]
    public void Every_traced_output_equals_the_network_cut_after_that_layer(string arch)
    {
        ModelSpec spec = Architectures.Get(arch);
        Model model = TestModels.Build(spec, EngineOptions.Default.Simd, out var tensors);
        float[] x = TestModels.Random(model.InputShape.Size, seed: 5);

        float[][] trace = model.Trace(x);

        for (int i = 0; i < spec.Layers.Count; i++)
        {
            var prefix = new ModelSpec { Name = "prefix", Input = spec.Input, Labels = [], Layers = spec.Layers.Take(i + 1).ToArray() };
            var names = prefix.Layers.Select(l => l.Name).OfType<string>().ToHashSet();
            var weights = WeightSet.FromTensors(tensors
                .Where(t => names.Contains(t.Key[..t.Key.IndexOf('.')]))
                .Select(t => new NamedTensor(t.Key, ShapeOf(model, t.Key), t.Value)));
            Model cut = Model.Create(prefix, weights, new EngineOptions { Threads = 1 });
            TestModels.AssertClose(TestModels.Forward(cut, x, 1), trace[i], 1e-5f);
        }
    }

    [Fact]
    public void A_fused_conv_shows_its_signed_pre_activation_and_the_relu_after_it_clamps_it()
    {
        ModelSpec spec = Architectures.KerasMnist();
        Model model = Model.Create(spec, WeightInitializer.Initialize(spec, 1));
        Assert.True(((Conv2D)model.Layers[0]).FusedRelu);

        float[][] trace = model.Trace(TestModels.Random(784, seed: 8));

        Assert.Contains(trace[0], v => v < 0);
        Assert.Equal(trace[0].Select(v => MathF.Max(v, 0f)), trace[1]);
    }

    [Fact]
    public void Forward_fuses_the_relu_again_after_a_trace()
    {
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = 8, Kernel = new Pair(3, 3) };
        var spec = TestModels.Spec(new TensorShape(1, 8, 8), conv, new LayerSpec { Type = "relu" });
        Model model = TestModels.Build(spec, SimdLevel.Scalar, out _);
        float[] x = TestModels.Random(64, seed: 9);

        Assert.Contains(model.Trace(x)[0], v => v < 0);
        Assert.All(TestModels.Forward(model, x, 1), v => Assert.True(v >= 0));
    }

    [Fact]
    public void Trace_rejects_an_input_of_the_wrong_size()
    {
        ModelSpec spec = Architectures.KerasMnist();
        Model model = Model.Create(spec, WeightInitializer.Initialize(spec, 1));

        var error = Assert.Throws<ArgumentException>(() => model.Trace(new float[783]));
        Assert.Contains("783", error.Message);
    }

    [Fact]
    public void Conv_weights_come_back_unpacked_as_pytorch_stores_them()
    {
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = 11, Kernel = new Pair(3, 2) };
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(3, 6, 6), conv), SimdLevel.Scalar, out var tensors);
        var layer = (Conv2D)model.Layers[0];

        Assert.Equal((3, 2), (layer.KernelHeight, layer.KernelWidth));
        Assert.Equal(tensors["conv.weight"], layer.CopyWeights());
    }

    private static int[] ShapeOf(Model model, string tensor)
    {
        string layerName = tensor[..tensor.IndexOf('.')];
        Layer layer = model.Layers.First(l => l.Name == layerName);
        if (tensor.EndsWith(".weight") && layer is Conv2D conv)
            return [conv.OutputShape.C, conv.InputShape.C, conv.KernelHeight, conv.KernelWidth];
        if (tensor.EndsWith(".weight") && layer is Dense)
            return [layer.OutputShape.C, layer.InputShape.Size];
        return [layer.OutputShape.C];
    }
}
