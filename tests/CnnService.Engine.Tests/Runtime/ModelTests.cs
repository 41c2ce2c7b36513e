using CnnService.Engine.Format;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Runtime;

public class ModelTests
{
    [Fact]
    public void Keras_mnist_has_the_published_shapes_and_parameter_count()
    {
        var spec = Architectures.KerasMnist();
        Model model = Model.Create(spec, WeightInitializer.Initialize(spec, 1));

        Assert.Equal(new TensorShape(32, 26, 26), model.Layers[0].OutputShape);
        Assert.Equal(new TensorShape(32, 13, 13), model.Layers[2].OutputShape);
        Assert.Equal(new TensorShape(10, 1, 1), model.OutputShape);
        Assert.Equal(320 + 540_900 + 1_010, model.Parameters);   // Keras's model.summary(): 542,230
    }

    [Theory]
    [InlineData("keras-mnist")]
    [InlineData("lenet5")]
    [InlineData("tinyvgg")]
    public void Whole_network_equals_its_layers_run_one_by_one_on_the_scalar_path(string arch)
    {
        ModelSpec spec = Architectures.Get(arch);
        Model fast = Model.Create(spec, WeightInitializer.Initialize(spec, 3), new EngineOptions { Threads = 2 });
        Model scalar = Model.Create(spec, WeightInitializer.Initialize(spec, 3), new EngineOptions { Threads = 1, Simd = SimdLevel.Scalar });
        float[] x = TestModels.Random(5 * fast.InputShape.Size, seed: 4);

        float[] y = TestModels.Forward(fast, x, 5);
        TestModels.AssertClose(TestModels.Forward(scalar, x, 5), y, 1e-4f);
        for (int n = 0; n < 5; n++) Assert.Equal(1f, y.Skip(n * 10).Take(10).Sum(), 4);
    }

    [Fact]
    public void Batch_results_equal_single_image_results()
    {
        var spec = Architectures.LeNet5();
        Model model = Model.Create(spec, WeightInitializer.Initialize(spec, 5));
        float[] x = TestModels.Random(17 * 784, seed: 6);

        float[] batch = TestModels.Forward(model, x, 17);
        for (int n = 0; n < 17; n++)
        {
            float[] one = TestModels.Forward(model, x.Skip(n * 784).Take(784).ToArray(), 1);
            TestModels.AssertClose(one, batch.Skip(n * 10).Take(10).ToArray(), 1e-5f);
        }
    }

    [Theory]
    [InlineData("keras-mnist", 5)]   // one share: each layer split
    [InlineData("keras-mnist", 8)]   // two shares of 4, each on its own thread
    [InlineData("keras-mnist", 9)]
    [InlineData("keras-mnist", 24)]  // two shares of 12: each takes the GEMM the 24 take, not the GEMV 12 alone would
    [InlineData("tinyvgg", 8)]
    [InlineData("small-vgg", 11)]
    public void A_batch_split_across_threads_gives_the_bits_of_one_thread(string arch, int batch)
    {
        // A share's dense layers take the kernel the whole batch takes, not the one its own size would.
        ModelSpec spec = Architectures.Get(arch);
        Model one = Model.Create(spec, WeightInitializer.Initialize(spec, 5), new EngineOptions { Threads = 1 });
        Model two = Model.Create(spec, WeightInitializer.Initialize(spec, 5), new EngineOptions { Threads = 2 });
        float[] x = TestModels.Random(batch * one.InputShape.Size, seed: 8);

        Assert.Equal(TestModels.Forward(one, x, batch), TestModels.Forward(two, x, batch));
    }

    [Theory]
    [InlineData("keras-mnist")]
    [InlineData("small-vgg")]   // batchnorms folded into its convolutions
    public void Forward_allocates_nothing_once_warm(string arch)
    {
        var spec = Architectures.Get(arch);
        Model model = Model.Create(spec, WeightInitializer.Initialize(spec, 1), new EngineOptions { Threads = 1 });
        float[] x = TestModels.Random(64 * 784, seed: 7), y = new float[640];
        model.Forward(x, y, 64);

        Assert.Equal(0, Allocations.Fewest(5, () =>
        {
            for (int i = 0; i < 5; i++) model.Forward(x, y, 64);
        }));
    }

    [Fact]
    public void A_relu_after_conv_or_dense_is_fused_but_still_listed()
    {
        var spec = Architectures.KerasMnist();
        Model model = Model.Create(spec, WeightInitializer.Initialize(spec, 1));

        Assert.True(((Conv2D)model.Layers[0]).FusedRelu);
        Assert.True(((Dense)model.Layers[4]).FusedRelu);
        Assert.False(((Dense)model.Layers[6]).FusedRelu);
        Assert.Equal(8, model.Layers.Count);
    }

    [Fact]
    public void Wrong_input_length_is_a_clear_argument_error()
    {
        var spec = Architectures.KerasMnist();
        Model model = Model.Create(spec, WeightInitializer.Initialize(spec, 1));

        var e = Assert.Throws<ArgumentException>(() => model.Forward(new float[783], new float[10], 1));
        Assert.Contains("[1,28,28]", e.Message);
    }

    [Fact]
    public void Overlapping_input_and_output_are_refused()
    {
        Model model = Model.Create(TestModels.Spec(new TensorShape(8, 1, 1), new LayerSpec { Type = "dense", Name = "fc", Units = 8 }),
            WeightInitializer.Initialize(TestModels.Spec(new TensorShape(8, 1, 1), new LayerSpec { Type = "dense", Name = "fc", Units = 8 }), 1));
        float[] buffer = new float[12];

        Assert.Throws<ArgumentException>(() => model.Forward(buffer.AsSpan(0, 8), buffer.AsSpan(4, 8), 1));
    }

    [Fact]
    public void Labels_must_match_the_output_size()
    {
        var spec = Architectures.KerasMnist();
        var wrong = new ModelSpec { Name = spec.Name, Input = spec.Input, Labels = ["a", "b"], Layers = spec.Layers };

        var e = Assert.Throws<ModelFormatException>(() => Model.Create(wrong, WeightInitializer.Initialize(spec, 1)));
        Assert.Contains("2 labels", e.Message);
    }
}
