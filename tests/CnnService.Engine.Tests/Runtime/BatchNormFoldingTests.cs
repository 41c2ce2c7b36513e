using System.Text.Json.Nodes;
using CnnService.Engine.Format;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;
using CnnService.Engine.Training;

namespace CnnService.Engine.Tests.Runtime;

/// <summary>
/// A batchnorm that is the only reader of a convolution's output is folded into its weights and bias at load, and
/// a ReLU after it then runs in the convolution's store: the results differ from the layers run one by one only by
/// rounding. The batchnorms here have random statistics (a fresh model's are the identity, which would hide a fold
/// that ignored them).
/// </summary>
public class BatchNormFoldingTests
{
    public static TheoryData<SimdLevel, string> Convolutions()
    {
        var data = new TheoryData<SimdLevel, string>();
        foreach (SimdLevel simd in TestModels.SimdLevels().Select(l => (SimdLevel)l[0]))
        foreach (string conv in new[] { "direct", "pointwise", "small", "strided-no-bias", "grouped", "depthwise" })
            data.Add(simd, conv);
        return data;
    }

    [Theory]
    [MemberData(nameof(Convolutions))]
    public void A_conv_batchnorm_relu_computes_what_its_layers_do_one_by_one(SimdLevel simd, string conv)
    {
        (TensorShape input, LayerSpec layer) = Convolution(conv);
        ModelSpec spec = TestGraphs.Graph(input, layer, TestGraphs.Layer("batchnorm", "bn"), TestGraphs.Layer("relu", "r"));

        Assert.Equal(["bn", "r"], TestModels.FusedAway(Build(spec, simd, out _)));
        AssertEqualsReference(spec, simd);
    }

    [Fact]
    public void A_batchnorm_after_a_depthwise_convolution_folds_and_the_clip_after_it_runs_in_its_store()
    {
        ModelSpec spec = TestGraphs.Graph(new TensorShape(8, 9, 11),
            TestGraphs.Depthwise("dw", 8, 3, 1, 1), TestGraphs.Layer("batchnorm", "bn"), TestGraphs.Clip("six", 0, 6));

        Assert.Equal(["bn", "six"], TestModels.FusedAway(Build(spec, Simd.Best, out _)));
        foreach (SimdLevel simd in TestModels.SimdLevels().Select(l => (SimdLevel)l[0])) AssertEqualsReference(spec, simd);
    }

    [Fact]
    public void A_chain_of_conv_batchnorm_relu_blocks_computes_what_its_layers_do_one_by_one()
    {
        // The first block's folded convolution then writes its output already padded for the second.
        ModelSpec spec = TestGraphs.Graph(new TensorShape(16, 6, 27),
            TestGraphs.Conv("c1", 32, 3, 1), TestGraphs.Layer("batchnorm", "bn1"), TestGraphs.Layer("relu", "r1"),
            TestGraphs.Conv("c2", 32, 3, 1), TestGraphs.Layer("batchnorm", "bn2"), TestGraphs.Layer("relu", "r2"));

        Assert.Equal(["bn1", "r1", "bn2", "r2"], TestModels.FusedAway(Build(spec, Simd.Best, out _)));
        foreach (SimdLevel simd in TestModels.SimdLevels().Select(l => (SimdLevel)l[0])) AssertEqualsReference(spec, simd);
    }

    [Fact]
    public void The_shipped_mnist_architecture_folds_every_batchnorm_and_matches_its_layers_one_by_one()
    {
        ModelSpec spec = Architectures.Get("small-vgg");
        Model model = Build(spec, Simd.Best, out _);

        Assert.Equal(["bn1", "bn2", "bn3", "bn4"], TestModels.FusedAway(model).Where(name => name.StartsWith("bn", StringComparison.Ordinal)));
        int[] relus = Enumerable.Range(0, spec.Layers.Count).Where(i => spec.Layers[i].Type == "relu").ToArray();
        Assert.All(relus, i => Assert.True(model.IsFusedAway(i)));
        AssertEqualsReference(spec, Simd.Best);
    }

    [Fact]
    public void A_batchnorm_whose_convolution_output_has_another_reader_is_not_folded()
    {
        ModelSpec spec = TestGraphs.Graph(new TensorShape(3, 7, 9),
            TestGraphs.Conv("t", 8, 3, 1), TestGraphs.Layer("batchnorm", "bn"), TestGraphs.Layer("relu", "r"), TestGraphs.Layer("add", "out", "r", "t"));
        Model model = Build(spec, Simd.Best, out _);

        Assert.Empty(TestModels.FusedAway(model));
        Assert.True(model.RunsLayer(TestModels.IndexOf(model, "bn")));
        AssertEqualsReference(spec, Simd.Best);
    }

    [Fact]
    public void A_relu_that_shares_the_folded_batchnorms_output_runs_on_its_own()
    {
        // Stored clamped, the add would read the ReLU's output instead of the batchnorm's.
        ModelSpec spec = TestGraphs.Graph(new TensorShape(3, 7, 9),
            TestGraphs.Conv("t", 8, 3, 1), TestGraphs.Layer("batchnorm", "bn"), TestGraphs.Layer("relu", "r"), TestGraphs.Layer("add", "out", "r", "bn"));
        Model model = Build(spec, Simd.Best, out _);

        Assert.Equal(["bn"], TestModels.FusedAway(model));
        Assert.True(model.RunsLayer(TestModels.IndexOf(model, "r")));
        AssertEqualsReference(spec, Simd.Best);
    }

    [Fact]
    public void Trace_shows_the_convolutions_own_output_then_the_batchnorms_then_the_relus()
    {
        ModelSpec spec = TestGraphs.Graph(new TensorShape(16, 6, 27),
            TestGraphs.Conv("c", 32, 3, 1), TestGraphs.Layer("batchnorm", "bn"), TestGraphs.Layer("relu", "r"));
        List<NamedTensor> tensors = Tensors(spec, seed: 4);
        Model model = Model.Create(spec, WeightSet.FromTensors(tensors), new EngineOptions { Threads = 2 });
        float[] x = TestModels.Random(model.InputShape.Size, seed: 5);

        float[][] trace = model.Trace(x);

        // Each layer alone, unfused, gives the same bits.
        Model conv = Model.Create(TestGraphs.Graph(model.InputShape, spec.Layers[0]), Subset(tensors, "c"), new EngineOptions { Threads = 2 });
        Model bn = Model.Create(TestGraphs.Graph(conv.OutputShape, spec.Layers[1]), Subset(tensors, "bn"), new EngineOptions { Threads = 2 });
        Assert.Equal(TestModels.Forward(conv, x, 1), trace[0]);
        Assert.Equal(TestModels.Forward(bn, trace[0], 1), trace[1]);
        Assert.Equal(trace[1].Select(v => MathF.Max(v, 0)), trace[2]);
        Assert.Contains(trace[1], v => v < 0);
    }

    [Fact]
    public void Layers_keep_the_convolution_as_written_with_its_own_weights_and_parameters()
    {
        var conv = new LayerSpec { Type = "conv2d", Name = "c", Filters = 8, Kernel = Pair.Square(3), UseBias = false };
        ModelSpec spec = TestGraphs.Graph(new TensorShape(3, 7, 9), conv, TestGraphs.Layer("batchnorm", "bn"));
        Model model = Build(spec, Simd.Best, out var tensors);

        Assert.Equal(tensors["c.weight"], ((IConvolution)model.Layers[0]).CopyWeights());
        Assert.Equal(8 * 3 * 9 + 4 * 8, model.Parameters);   // no bias counted: the folded copy's is the plan's, not the model's
    }

    [Fact]
    public void Training_keeps_every_batchnorm_a_layer_of_its_own()
    {
        ModelSpec spec = TestGraphs.Graph(new TensorShape(3, 7, 9),
            TestGraphs.Conv("c", 8, 3, 1), TestGraphs.Layer("batchnorm", "bn"), TestGraphs.Layer("relu", "r"));

        TrainNetwork network = TrainNetwork.Create(spec, Weights(spec, seed: 6, out _), maxBatch: 2);

        Assert.Equal(["conv2d", "batchnorm", "relu"], network.Layers.Select(l => l.Type));
    }

    private static (TensorShape, LayerSpec) Convolution(string name) => name switch
    {
        "direct" => (new TensorShape(16, 6, 27), TestGraphs.Conv("c", 32, 3, 1)),
        "pointwise" => (new TensorShape(16, 5, 6), TestGraphs.Conv("c", 32, 1, 0)),
        "small" => (new TensorShape(3, 9, 11), TestGraphs.Conv("c", 8, 3, 1)),
        "strided-no-bias" => (new TensorShape(8, 9, 9),
            new LayerSpec { Type = "conv2d", Name = "c", Filters = 16, Kernel = Pair.Square(3), Stride = Pair.Square(2), Padding = Padding.Of(1, 1), UseBias = false }),
        "grouped" => (new TensorShape(8, 7, 9),
            new LayerSpec { Type = "conv2d", Name = "c", Filters = 12, Kernel = Pair.Square(3), Padding = Padding.Of(1, 1), Extra = new JsonObject { ["groups"] = 2 } }),
        "depthwise" => (new TensorShape(8, 9, 11), TestGraphs.Depthwise("c", 8, 3, 2, 1)),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    /// <summary>Seeded weights whose batchnorms have statistics far from the identity: gammas of either sign, shifted means, variances from 0.1 to 3.</summary>
    private static WeightSet Weights(ModelSpec spec, int seed, out Dictionary<string, float[]> tensors)
    {
        List<NamedTensor> all = Tensors(spec, seed);
        tensors = all.ToDictionary(t => t.Name, t => (float[])t.Data.Clone());
        return WeightSet.FromTensors(all);
    }

    private static List<NamedTensor> Tensors(ModelSpec spec, int seed)
    {
        var random = new Random(seed);
        var batchNorms = spec.Layers.Where(l => l.Type == "batchnorm").Select(l => l.Name!).ToHashSet();
        var all = new List<NamedTensor>();
        foreach (NamedTensor t in WeightInitializer.Initialize(spec, seed).AllFloat32())
        {
            int dot = t.Name.LastIndexOf('.');
            if (!batchNorms.Contains(t.Name[..dot])) all.Add(t);
            else all.Add(t with { Data = t.Data.Select(_ => Statistic(t.Name[(dot + 1)..], random)).ToArray() });
        }

        return all;
    }

    private static float Statistic(string tensor, Random random) => tensor switch
    {
        "weight" => (float)((random.NextDouble() * 1.5 + 0.5) * (random.Next(2) == 0 ? -1 : 1)),
        "running_var" => (float)(random.NextDouble() * 2.9 + 0.1),
        _ => (float)(random.NextDouble() * 2 - 1),
    };

    private static WeightSet Subset(List<NamedTensor> tensors, string layer) =>
        WeightSet.FromTensors(tensors.Where(t => t.Name.StartsWith(layer + ".", StringComparison.Ordinal)));

    private static Model Build(ModelSpec spec, SimdLevel simd, out Dictionary<string, float[]> tensors, int threads = 1) =>
        Model.Create(spec, Weights(spec, seed: 1, out tensors), new EngineOptions { Simd = simd, Threads = threads });

    private static void AssertEqualsReference(ModelSpec spec, SimdLevel simd)
    {
        foreach (int batch in new[] { 1, 3 })
        {
            Model model = Build(spec, simd, out var tensors, threads: 2);
            float[] x = TestModels.Random(batch * model.InputShape.Size, seed: 75);
            TestModels.AssertClose(GraphReference.Run(spec, tensors, x, batch)[^1], TestModels.Forward(model, x, batch));
        }
    }
}
