using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;
using CnnService.Engine.Training;

namespace CnnService.Engine.Tests.Training;

public class TrainNetworkTests
{
    [Theory]
    [InlineData("keras-mnist")]
    [InlineData("lenet5")]
    public void Evaluate_then_softmax_equals_the_inference_model(string arch)
    {
        AssertEvaluateMatchesInference(Architectures.Get(arch), trainSteps: 0);
    }

    [Fact]
    public void Evaluate_then_softmax_equals_the_inference_model_with_every_layer_type()
    {
        // Two training steps first, so batchnorm's running statistics are no longer the identity.
        AssertEvaluateMatchesInference(EveryLayer(), trainSteps: 2);
    }

    [Fact]
    public void A_training_step_allocates_nothing_once_warm()
    {
        ModelSpec spec = EveryLayer();
        TrainNetwork network = TrainNetwork.Create(spec, WeightInitializer.Initialize(spec, 1), maxBatch: 4, new EngineOptions { Threads = 1 });
        TestModels.Random(4 * network.InputShape.Size, seed: 2).CopyTo(network.Input);
        int[] labels = [0, 1, 2, 1];
        network.Step(labels, 1, out _);
        network.Evaluate(4);

        ulong step = 2;
        Assert.Equal(0, Allocations.Fewest(5, () =>
        {
            for (int i = 0; i < 3; i++, step++)
            {
                network.Step(labels, step, out _);
                network.Evaluate(4);
            }
        }));
    }

    [Fact]
    public void A_training_step_on_two_threads_gives_the_same_bits_every_time()
    {
        float[][] first = StepGradients(threads: 2), second = StepGradients(threads: 2);

        for (int i = 0; i < first.Length; i++) Assert.Equal(first[i], second[i]);
    }

    [Fact]
    public void A_training_step_on_two_threads_agrees_with_one()
    {
        // Conv2d sums its partial weight gradients per run of images, so the thread count may move the last bits.
        float[][] one = StepGradients(threads: 1), two = StepGradients(threads: 2);

        for (int i = 0; i < one.Length; i++) TestModels.AssertClose(one[i], two[i], 1e-5f);
    }

    [Fact]
    public void A_training_step_leaves_the_gradient_of_its_mean_loss_in_every_parameter()
    {
        // Smooth layers only (no relu or max pooling), so a nudge never crosses a kink; no bias
        // in front of a batchnorm, whose gradient is exactly zero and its finite difference noise.
        ModelSpec spec = TestModels.Spec(new TensorShape(2, 8, 7),
            new LayerSpec { Type = "conv2d", Name = "conv1", Filters = 4, Kernel = Pair.Square(3), Padding = Padding.Of(1, 1), PaddingMode = "reflect", UseBias = false },
            new LayerSpec { Type = "batchnorm", Name = "bn1" },
            new LayerSpec { Type = "tanh" },
            new LayerSpec { Type = "lrn", Size = 3, Alpha = 0.5f, Beta = 0.75f, K = 2f },
            new LayerSpec { Type = "avgpool2d", Kernel = Pair.Square(2) },
            new LayerSpec { Type = "conv2d", Name = "conv2", Filters = 5, Kernel = Pair.Square(2), Stride = Pair.Square(2) },
            new LayerSpec { Type = "sigmoid" },
            new LayerSpec { Type = "dropout", Name = "drop1", Rate = 0.2f },
            new LayerSpec { Type = "global_avgpool" },
            new LayerSpec { Type = "flatten" },
            new LayerSpec { Type = "dense", Name = "fc1", Units = 6, UseBias = false },
            new LayerSpec { Type = "batchnorm", Name = "bn2" },
            new LayerSpec { Type = "tanh" },
            new LayerSpec { Type = "dense", Name = "fc2", Units = 3 });
        TrainNetwork network = TrainNetwork.Create(spec, WeightInitializer.Initialize(spec, 4), maxBatch: 4);
        TestModels.Random(4 * network.InputShape.Size, seed: 5, scale: 2f).CopyTo(network.Input);
        int[] labels = [2, 0, 1, 2];
        network.Step(labels, 11, out _);
        var analytic = network.Parameters.Where(p => p.Trainable).Select(p => (p, Grad: (float[])p.Grad.Clone())).ToList();

        foreach (var (parameter, grad) in analytic)
            GradientCheck.Compare(parameter.Name, grad, parameter.Value, () => network.Step(labels, 11, out _), eps: 1e-2, tolerance: 1e-2);
    }

    /// <summary>Every parameter's gradient (or, for running statistics, value) after one step of the every-layer network.</summary>
    private static float[][] StepGradients(int threads)
    {
        ModelSpec spec = EveryLayer();
        TrainNetwork network = TrainNetwork.Create(spec, WeightInitializer.Initialize(spec, 1), maxBatch: 4, new EngineOptions { Threads = threads });
        TestModels.Random(4 * network.InputShape.Size, seed: 3).CopyTo(network.Input);
        network.Step([0, 1, 2, 1], 9, out _);
        return network.Parameters.Select(p => (float[])(p.Trainable ? p.Grad : p.Value).Clone()).ToArray();
    }

    /// <summary>A small network holding each of the thirteen layer types at least once.</summary>
    internal static ModelSpec EveryLayer() => TestModels.Spec(new TensorShape(3, 12, 10),
        new LayerSpec { Type = "conv2d", Name = "conv1", Filters = 6, Kernel = Pair.Square(3), Padding = Padding.Of(1, 1), PaddingMode = "reflect" },
        new LayerSpec { Type = "batchnorm", Name = "bn1" },
        new LayerSpec { Type = "relu" },
        new LayerSpec { Type = "lrn", Size = 3, Alpha = 0.1f, Beta = 0.75f, K = 2f },
        new LayerSpec { Type = "maxpool2d", Kernel = Pair.Square(2) },
        new LayerSpec { Type = "conv2d", Name = "conv2", Filters = 8, Kernel = new Pair(3, 2), Stride = new Pair(1, 2), UseBias = false },
        new LayerSpec { Type = "sigmoid" },
        new LayerSpec { Type = "avgpool2d", Kernel = Pair.Square(2), Stride = Pair.Square(1), Padding = Padding.Of(1, 0) },
        new LayerSpec { Type = "tanh" },
        new LayerSpec { Type = "dropout", Name = "drop1", Rate = 0.3f },
        new LayerSpec { Type = "global_avgpool" },
        new LayerSpec { Type = "flatten" },
        new LayerSpec { Type = "dense", Name = "fc1", Units = 6 },
        new LayerSpec { Type = "batchnorm", Name = "bn2" },
        new LayerSpec { Type = "relu" },
        new LayerSpec { Type = "dropout", Name = "drop2", Rate = 0.5f },
        new LayerSpec { Type = "dense", Name = "fc2", Units = 3 },
        new LayerSpec { Type = "softmax" });

    [Fact]
    public void A_clip_after_a_convolution_stays_a_layer_for_training_where_inference_runs_it_in_the_convolution()
    {
        // 32 filters, K = 144, rows of 28: direct tiles on AVX-512, whose store the inference plan gives the clip.
        ModelSpec spec = TestModels.Spec(new TensorShape(16, 5, 28),
            new LayerSpec { Type = "conv2d", Name = "conv", Filters = 32, Kernel = Pair.Square(3), Padding = Padding.Of(1, 1) },
            new LayerSpec { Type = "clip", Name = "clip", Extra = new System.Text.Json.Nodes.JsonObject { ["min"] = -0.05f, ["max"] = 0.05f } },
            new LayerSpec { Type = "flatten" },
            new LayerSpec { Type = "dense", Name = "fc", Units = 3 },
            new LayerSpec { Type = "softmax" });

        AssertEvaluateMatchesInference(spec, trainSteps: 1);
    }

    /// <summary>
    /// Runs <paramref name="trainSteps"/> training forward passes first (they move batchnorm's running
    /// statistics), then holds Evaluate + softmax to a Model built from the exported tensors.
    /// </summary>
    private static void AssertEvaluateMatchesInference(ModelSpec spec, int trainSteps)
    {
        const int batch = 3;
        TrainNetwork network = TrainNetwork.Create(spec, WeightInitializer.Initialize(spec, 7), maxBatch: 4);
        int size = network.InputShape.Size;
        for (int step = 0; step < trainSteps; step++)
        {
            TestModels.Random(4 * size, seed: 100 + step, scale: 2f).CopyTo(network.Input);
            network.Step([0, 1, 2, 0], (ulong)step, out _);
        }

        float[] x = TestModels.Random(batch * size, seed: 8);
        x.CopyTo(network.Input);
        float[] logits = network.Evaluate(batch).ToArray();
        Model model = Model.Create(spec, WeightSet.FromTensors(network.ExportTensors()));

        TestModels.AssertClose(TestModels.Forward(model, x, batch), Reference.Softmax(logits, batch, network.Classes, 1), 1e-4f);
    }
}
