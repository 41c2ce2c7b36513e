using CnnService.Engine.Format;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Runtime;

/// <summary>A 3x3 stride-2 max pool after a concat of convolutions (SqueezeNet's fires 3 and 5, GoogLeNet's inception 3b) runs
/// inside each convolution on its direct rows, since pooling the join pools each part: when it does, when it must not, and
/// that it gives the bits of the layers one by one.</summary>
public class ConcatPoolFusionTests
{
    [Fact]
    public void A_pool_that_alone_reads_a_concat_of_convolutions_runs_inside_each_of_them()
    {
        if (!TestModels.PoolsInRegisters) return;   // the pool's row kernel is AVX-512
        Model model = TestModels.Build(Fire(), SimdLevel.Vector512, out _);

        Assert.Equal(["s", "e1r", "e3r", "p"], TestModels.FusedAway(model));
        Assert.Equal("direct+maxpool", Lowering(model, "e1"));   // a 1x1 planned as pointwise tiles runs direct rows to pool them
        Assert.Equal("direct+maxpool", Lowering(model, "e3"));   // and one planned as im2col too
        Assert.False(model.RunsLayer(TestModels.IndexOf(model, "j"), batch: 1));   // the pooled parts are written in place
        Assert.Equal(new TensorShape(64, 15, 15), model.RunningLayer(TestModels.IndexOf(model, "j")).OutputShape);
    }

    [Fact]
    public void Without_the_pool_the_1x1_part_keeps_its_pointwise_tiles()
    {
        if (!TestModels.PoolsInRegisters) return;
        Model model = TestModels.Build(Fire(poolStride: 1), SimdLevel.Vector512, out _);

        Assert.Equal(["s", "e1r", "e3r"], TestModels.FusedAway(model));
        Assert.Equal("pointwise", Lowering(model, "e1"));
        Assert.Equal("im2col", Lowering(model, "e3"));   // rows of 30 recompute 12 positions in 42: not direct by its shape
    }

    [Fact]
    public void A_part_read_by_another_layer_too_keeps_the_pool_a_layer()
    {
        ModelSpec spec = TestGraphs.Graph(new TensorShape(16, 31, 30), [.. FireLayers(2),
            TestGraphs.Layer("global_avgpool", "ga", "after"),
            TestGraphs.Layer("global_avgpool", "gb", "e3r"),
            TestGraphs.Layer("concat", "out", "ga", "gb")]);
        Model model = TestModels.Build(spec, Simd.Best, out _);

        Assert.DoesNotContain("p", TestModels.FusedAway(model));
        Assert.Equal(0, CountPooledConvolutions(model));
    }

    [Fact]
    public void A_part_that_is_not_a_convolution_keeps_the_pool_a_layer()
    {
        LayerSpec[] fire = FireLayers(2);
        fire[6] = TestGraphs.Layer("concat", "j", "e1r", "e3r", "m");
        ModelSpec spec = TestGraphs.Graph(new TensorShape(16, 31, 30), [.. fire[..6],
            new LayerSpec { Type = "maxpool2d", Name = "m", Inputs = ["s"], Kernel = Pair.Square(3), Stride = Pair.Square(1), Padding = Padding.Of(1, 1) },
            .. fire[6..]]);
        Model model = TestModels.Build(spec, Simd.Best, out _);

        Assert.DoesNotContain("p", TestModels.FusedAway(model));
        Assert.Equal(0, CountPooledConvolutions(model));
    }

    [SimdFact(SimdLevel.Vector256)]
    public void At_vector256_the_pool_after_a_concat_stays_a_layer()
    {
        Model model = TestModels.Build(Fire(), SimdLevel.Vector256, out _);

        Assert.Equal(["s", "e1r", "e3r"], TestModels.FusedAway(model));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 2)]   // two chunks of pooled rows in each part: the row between them made twice
    [InlineData(2, 1)]   // more than one image: the concat copies the pooled parts
    [InlineData(3, 2)]
    public void The_pooled_parts_give_the_bits_of_the_layers_one_by_one(int batch, int threads)
    {
        Model model = TestModels.Build(Fire(), Simd.Best, out _, threads);
        float[] x = TestModels.Random(batch * model.InputShape.Size, seed: 91);

        TestModels.AssertForwardGivesTheTraceBits(model, x, batch);
    }

    [Fact]
    public void A_nan_reaches_the_pooled_parts_as_it_reaches_the_pool_one_by_one()
    {
        // The vector pool drops NaN, so a row that may hold one takes the scalar twin, as the pool layer's own rows do.
        Model model = TestModels.Build(Fire(), Simd.Best, out _);
        float[] x = TestModels.Random(model.InputShape.Size, seed: 92);
        x[5 * 31 * 30 + 17 * 30 + 29] = float.NaN;   // the last column: read only by the windows that hang over the edge

        float[] y = TestModels.Forward(model, x, 1);

        Assert.Contains(y, float.IsNaN);
        TestModels.AssertForwardGivesTheTraceBits(model, x, 1);
    }

    private static string Lowering(Model model, string name) => Assert.IsType<Conv2D>(model.RunningLayer(TestModels.IndexOf(model, name))).Lowering;

    private static int CountPooledConvolutions(Model model) =>
        Enumerable.Range(0, model.Layers.Count).Count(i => model.RunningLayer(i) is Conv2D { Lowering: "direct+maxpool" });

    /// <summary>A fire module on a 31x30 map: squeeze 1x1 to 16, expand 1x1 and 3x3 to 32 each, joined; a 3x3 max pool with
    /// ceil_mode (at stride 2 its last column of windows hangs over the edge, and rows of 30 end in a tile moved back); a 1x1
    /// convolution after it, so the pooled join is read from its buffer.</summary>
    private static ModelSpec Fire(int poolStride = 2) => TestGraphs.Graph(new TensorShape(16, 31, 30), FireLayers(poolStride));

    private static LayerSpec[] FireLayers(int poolStride) =>
    [
        TestGraphs.Conv("squeeze", 16, 1, 0),
        TestGraphs.Layer("relu", "s"),
        TestGraphs.Conv("e1", 32, 1, 0, "s"),
        TestGraphs.Layer("relu", "e1r"),
        TestGraphs.Conv("e3", 32, 3, 1, "s"),
        TestGraphs.Layer("relu", "e3r"),
        TestGraphs.Layer("concat", "j", "e1r", "e3r"),
        new LayerSpec
        {
            Type = "maxpool2d", Name = "p", Kernel = Pair.Square(3), Stride = Pair.Square(poolStride),
            Padding = poolStride == 1 ? Padding.Of(1, 1) : Padding.Of(0, 0),
            Extra = new System.Text.Json.Nodes.JsonObject { ["ceil_mode"] = poolStride == 2 },
        },
        TestGraphs.Conv("after", 8, 1, 0),
    ];
}
