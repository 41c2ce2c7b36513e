using CnnService.Engine.Format;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Runtime;

/// <summary>A 3x3 stride-2 max pool after a convolution's direct rows (the stem pool of ResNet, SqueezeNet and GoogLeNet), run
/// inside the convolution (<see cref="Conv2D.TryFusePool"/>): when it is, and that it gives the bits of the two layers one by one.</summary>
public class DirectPoolFusionTests
{
    [Theory]
    [InlineData(1)]   // ResNet's: the pool padded by 1
    [InlineData(0)]   // SqueezeNet's: no padding, ceil_mode
    public void A_stem_pool_after_direct_rows_runs_inside_the_convolution(int poolPadding)
    {
        if (!TestModels.PoolsInRegisters) return;   // the pool's row kernel is AVX-512
        Model model = TestModels.Build(Stem(poolPadding), SimdLevel.Vector512, out _);

        Assert.Equal(["r", "p"], TestModels.FusedAway(model));
        Assert.Equal("direct+maxpool", Assert.IsType<Conv2D>(model.Layers[0]).Lowering);
        Assert.Equal(model.Layers[2].OutputShape, model.OutputShape);
    }

    [SimdFact(SimdLevel.Vector256)]
    public void At_vector256_the_stem_pool_stays_a_layer()
    {
        Model model = TestModels.Build(Stem(1), SimdLevel.Vector256, out _);

        Assert.Equal(["r"], TestModels.FusedAway(model));
    }

    [Fact]
    public void A_3x3_pool_at_stride_1_stays_a_layer()
    {
        ModelSpec spec = TestGraphs.Graph(new TensorShape(3, 61, 57), StrideTwoConv(), TestGraphs.Layer("relu", "r"),
            new LayerSpec { Type = "maxpool2d", Name = "p", Kernel = Pair.Square(3), Stride = Pair.Square(1), Padding = Padding.Of(1, 1) });
        Model model = TestModels.Build(spec, Simd.Best, out _);

        Assert.Equal(["r"], TestModels.FusedAway(model));
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(0, 1, 1)]
    [InlineData(1, 1, 2)]   // two chunks of pooled rows: the row between them made twice
    [InlineData(0, 1, 2)]
    [InlineData(1, 3, 2)]
    [InlineData(0, 5, 2)]
    public void The_fused_stem_gives_the_bits_of_its_convolution_relu_and_pool_one_by_one(int poolPadding, int batch, int threads)
    {
        Model model = TestModels.Build(Stem(poolPadding), Simd.Best, out _, threads);
        float[] x = TestModels.Random(batch * model.InputShape.Size, seed: 77);

        TestModels.AssertForwardGivesTheTraceBits(model, x, batch);
    }

    [Fact]
    public void A_nan_in_the_input_reaches_the_fused_pool_as_it_reaches_the_pool_one_by_one()
    {
        // The vector pool drops NaN, so a row that may hold one takes the scalar twin, as the pool layer's own rows do.
        Model model = TestModels.Build(Stem(0), Simd.Best, out _);
        float[] x = TestModels.Random(model.InputShape.Size, seed: 78);
        x[20 * 57 + 30] = float.NaN;

        float[] y = TestModels.Forward(model, x, 1);

        Assert.Contains(y, float.IsNaN);
        TestModels.AssertForwardGivesTheTraceBits(model, x, 1);
    }

    /// <summary>A stem: conv 3x3 stride 2 to 64 filters (two tiles of 32), ReLU, max pool 3x3 stride 2. Padded by 1, the pool
    /// reads a 30x27 map (ResNet's way; rows of 27 end in a tile of 13); unpadded with ceil_mode, a 30x28 one whose last windows hang over its edges (SqueezeNet's).</summary>
    private static ModelSpec Stem(int poolPadding) => TestGraphs.Graph(new TensorShape(3, 61, poolPadding == 1 ? 55 : 57),
        StrideTwoConv(),
        TestGraphs.Layer("relu", "r"),
        new LayerSpec
        {
            Type = "maxpool2d", Name = "p", Kernel = Pair.Square(3), Stride = Pair.Square(2), Padding = Padding.Of(poolPadding, poolPadding),
            Extra = new System.Text.Json.Nodes.JsonObject { ["ceil_mode"] = poolPadding == 0 },
        });

    private static LayerSpec StrideTwoConv() => new() { Type = "conv2d", Name = "c", Filters = 64, Kernel = Pair.Square(3), Stride = Pair.Square(2) };
}
