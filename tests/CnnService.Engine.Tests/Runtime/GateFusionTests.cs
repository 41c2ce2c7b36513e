using CnnService.Engine.Format;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Runtime;

/// <summary>A squeeze-and-excitation gate scaling the weights of the 1x1 convolution after it instead of the map
/// (<see cref="Conv2D.FuseGate"/>): when the plan does it, and that the pass computes what the layers one by one do.</summary>
public class GateFusionTests
{
    [SimdFact(SimdLevel.Vector256)]   // implicit GEMM is a vector lowering
    public void A_gate_whose_scaled_map_only_a_1x1_implicit_gemm_layer_reads_runs_in_its_weights()
    {
        Model model = TestModels.Build(SqueezeExciteProject(20, 40, 8), Simd.Best, out _);
        Assert.Equal("implicit-gemm", Assert.IsType<Conv2D>(model.Layers[^1]).Lowering);

        Assert.True(model.IsFusedAway(TestModels.IndexOf(model, "scaled")));
        Assert.True(Assert.IsType<Conv2D>(model.Layers[^1]).Gated);
    }

    [Theory]
    [MemberData(nameof(Runs))]
    public void The_gated_pass_computes_the_mul_and_the_convolution_one_by_one(SimdLevel simd, int batch, int threads)
    {
        ModelSpec spec = SqueezeExciteProject(20, 40, 8);
        Model model = TestModels.Build(spec, simd, out var tensors, threads);
        float[] x = TestModels.Random(batch * model.InputShape.Size, seed: 79);

        TestModels.AssertClose(GraphReference.Run(spec, tensors, x, batch)[^1], TestModels.Forward(model, x, batch));
    }

    [SimdFact(SimdLevel.Vector256)]
    public void A_gate_on_a_map_too_small_for_the_filters_stays_a_mul()
    {
        // 16 filters on 1 x 40: scaling 16 x 16 weights would cost more than a quarter of the 16 x 40 map's pass.
        Model model = TestModels.Build(SqueezeExciteProject(1, 40, 16), SimdLevel.Vector256, out _);

        Assert.Equal("implicit-gemm", Assert.IsType<Conv2D>(model.Layers[^1]).Lowering);
        Assert.False(model.IsFusedAway(TestModels.IndexOf(model, "scaled")));
    }

    [Fact]
    public void A_trace_still_shows_the_scaled_map()
    {
        ModelSpec spec = SqueezeExciteProject(20, 40, 8);
        Model model = TestModels.Build(spec, Simd.Best, out var tensors);
        float[] x = TestModels.Random(model.InputShape.Size, seed: 80);

        float[][] trace = model.Trace(x), expected = GraphReference.Run(spec, tensors, x, 1);

        for (int i = 0; i < trace.Length; i++) TestModels.AssertClose(expected[i], trace[i]);
    }

    public static IEnumerable<object[]> Runs() =>
        from level in TestModels.SimdLevels()
        from run in new (int Batch, int Threads)[] { (1, 1), (1, 2), (3, 2), (5, 1) }
        select new object[] { level[0], run.Batch, run.Threads };

    /// <summary>EfficientNet's squeeze-and-excitation and projection: a 1x1 expansion to 16 channels, its means, 16 -> 4 -> 16
    /// dense layers, a sigmoid gate, the map times the gate, and a 1x1 projection to <paramref name="filters"/> on an
    /// <paramref name="h"/> x <paramref name="w"/> map.</summary>
    internal static ModelSpec SqueezeExciteProject(int h, int w, int filters) => TestGraphs.Graph(new TensorShape(6, h, w),
        TestGraphs.Conv("e", 16, 1, 0),
        TestGraphs.Layer("relu", "map"),
        TestGraphs.Layer("global_avgpool", "squeeze"),
        new LayerSpec { Type = "dense", Name = "fc1", Units = 4 },
        TestGraphs.Layer("relu", "r"),
        new LayerSpec { Type = "dense", Name = "fc2", Units = 16 },
        TestGraphs.Layer("sigmoid", "gate"),
        TestGraphs.Layer("mul", "scaled", "gate", "map"),
        TestGraphs.Conv("p", filters, 1, 0));
}
