using CnnService.Engine.Format;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Layers;

/// <summary>The lowerings a convolution's shape admits (<see cref="Conv2D.Candidates"/>), the fixed choice first, and that
/// each of them, forced, computes the convolution: what a measured plan may choose among.</summary>
public class ConvLoweringTests
{
    public static IEnumerable<object[]> CasesAtEveryLevel() => Conv2DTests.CasesAtEveryLevel();

    [Theory]
    [MemberData(nameof(CasesAtEveryLevel))]
    public void Every_lowering_a_shape_admits_matches_the_direct_convolution(int n, int c, int h, int w, int m, int kh, int kw, int sh, int sw, Padding padding, bool reflect, SimdLevel simd)
    {
        ModelSpec spec = TestModels.Spec(new TensorShape(c, h, w), Conv2DTests.CaseLayer(m, kh, kw, sh, sw, padding, reflect));
        Conv2D fixedPlan = Conv(Build(spec, simd, lowering: null, out var t));
        float[] x = TestModels.Random(n * c * h * w, seed: 2);
        float[] expected = Conv2DTests.Expected(x, n, c, h, w, t, m, kh, kw, sh, sw, padding, reflect, fixedPlan.OutputShape);

        foreach (ConvLowering lowering in fixedPlan.Candidates)
        {
            Model model = Build(spec, simd, lowering, out _);

            Assert.Equal(lowering.Name(), Conv(model).Lowering);
            TestModels.AssertClose(expected, GuardedMemory.Forward(model, x, n));
        }
    }

    [Theory]
    [InlineData(3, 16, 64, 10, 3, 0)]    // TinyVGG's first layer: unpadded 3x3, implicit GEMM reading the caller's input in place
    [InlineData(3, 12, 40, 64, 1, 0)]    // a 1x1 first layer on too few channels for pointwise tiles: implicit GEMM
    [InlineData(16, 9, 45, 32, 3, 1)]    // padded: the padded copy is the engine's, the input only read row by row
    [InlineData(6, 14, 14, 16, 5, 0)]    // LeNet-5's second layer: in place with AVX2, each panel across rows, the last copied out
    public void No_lowering_reads_past_the_end_of_the_callers_input(int c, int h, int w, int filters, int kernel, int padding)
    {
        // An image's last implicit-GEMM panel reads kw + NR - 2 floats past the image; the caller's memory may end there.
        if (!GuardedMemory.Supported) return;
        ModelSpec spec = TestModels.Spec(new TensorShape(c, h, w),
            new LayerSpec { Type = "conv2d", Name = "conv", Filters = filters, Kernel = Pair.Square(kernel), Padding = Padding.Of(padding, padding) });

        foreach (object[] level in TestModels.SimdLevels())
        {
            SimdLevel simd = (SimdLevel)level[0];
            foreach (ConvLowering lowering in Conv(Build(spec, simd, lowering: null, out _)).Candidates)
            {
                Model model = Build(spec, simd, lowering, out _);
                foreach (int batch in new[] { 1, 2 })
                {
                    float[] x = TestModels.Random(batch * c * h * w, seed: 6);
                    TestModels.AssertClose(TestModels.Forward(model, x, batch), GuardedMemory.Forward(model, x, batch));
                }
            }
        }
    }

    [SimdFact(SimdLevel.Vector512)]
    public void A_3x3_layer_of_32_filter_tiles_runs_winograd_and_may_run_direct_in_place_or_packed_with_avx512()
    {
        Assert.Equal([ConvLowering.Winograd, ConvLowering.Direct, ConvLowering.ImplicitGemm, ConvLowering.Im2Col], Candidates(new TensorShape(16, 20, 56), Conv3x3(64), SimdLevel.Vector512));
    }

    [SimdFact(SimdLevel.Vector256)]
    public void With_avx2_a_wide_3x3_layer_runs_winograd_before_direct_in_place_or_packed()
    {
        Assert.Equal([ConvLowering.Winograd, ConvLowering.Direct, ConvLowering.ImplicitGemm, ConvLowering.Im2Col], Candidates(new TensorShape(16, 20, 56), Conv3x3(64), SimdLevel.Vector256));
    }

    [SimdFact(SimdLevel.Vector256)]
    public void With_avx2_a_3x3_layer_on_a_map_of_4x4_tiles_runs_winograd_before_direct_or_packed()
    {
        Assert.Equal([ConvLowering.Winograd, ConvLowering.Direct, ConvLowering.Im2Col], Candidates(new TensorShape(16, 14, 14), Conv3x3(64), SimdLevel.Vector256));
    }

    [SimdFact(SimdLevel.Vector256)]
    public void With_avx2_a_3x3_layer_on_a_7x7_map_runs_direct_and_lists_winograd_last()
    {
        Assert.Equal([ConvLowering.Direct, ConvLowering.Im2Col, ConvLowering.Winograd], Candidates(new TensorShape(512, 7, 7), Conv3x3(512), SimdLevel.Vector256));
    }

    [SimdFact(SimdLevel.Vector256)]
    public void With_avx2_a_3x3_layer_on_few_channels_lists_winograd_last()
    {
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = 10, Kernel = Pair.Square(3) };

        Assert.Equal(ConvLowering.Winograd, Candidates(new TensorShape(3, 64, 64), conv, SimdLevel.Vector256)[^1]);
        Assert.NotEqual(ConvLowering.Winograd, Candidates(new TensorShape(3, 64, 64), conv, SimdLevel.Vector256)[0]);
    }

    [SimdTheory(SimdLevel.Vector256)]
    [InlineData(1, 64, 28)]   // 49 tiles: the threads split the filters, each transforming every tile
    [InlineData(2, 16, 30)]   // 128 tiles: the threads split the tiles, a chunk ending inside a run
    [InlineData(7, 16, 13)]   // 112 tiles of 13x13 maps, two tile rows a run: the threads split the tiles
    public void Threads_splitting_a_winograd_layers_tiles_or_filters_give_one_threads_bits(int batch, int c, int size)
    {
        ModelSpec spec = TestModels.Spec(new TensorShape(c, size, size), Conv3x3(40));
        float[] x = TestModels.Random(batch * c * size * size, seed: 9);

        Assert.Equal(Forward(1), Forward(2));

        float[] Forward(int threads)
        {
            var options = new EngineOptions { Simd = SimdLevel.Vector256, Threads = threads, Lowerings = new Dictionary<int, ConvLowering> { [0] = ConvLowering.Winograd } };
            Model model = Model.Create(spec, WeightInitializer.Initialize(spec, 1), options);
            Assert.Equal("winograd", Conv(model).Lowering);
            return GuardedMemory.Forward(model, x, batch);
        }
    }

    [SimdFact(SimdLevel.Vector256)]
    public void With_avx2_a_narrow_5x5_layer_of_few_filters_runs_in_place_before_packed()
    {
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = 16, Kernel = Pair.Square(5) };

        Assert.Equal([ConvLowering.ImplicitGemm, ConvLowering.Im2Col], Candidates(new TensorShape(6, 14, 14), conv, SimdLevel.Vector256));
    }

    [SimdFact(SimdLevel.Vector256)]
    public void With_avx2_a_narrow_1x1_layer_of_few_filters_stays_packed()
    {
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = 16, Kernel = Pair.Square(1) };

        Assert.Equal(ConvLowering.Im2Col, Candidates(new TensorShape(6, 14, 14), conv, SimdLevel.Vector256)[0]);
    }

    [SimdFact(SimdLevel.Vector256)]
    public void With_avx2_an_rgb_stem_at_stride_2_runs_direct_before_packed()
    {
        var stem = new LayerSpec { Type = "conv2d", Name = "conv", Filters = 32, Kernel = Pair.Square(3), Stride = Pair.Square(2), Padding = Padding.Of(1, 1) };

        Assert.Equal([ConvLowering.Direct, ConvLowering.Im2Col], Candidates(new TensorShape(3, 224, 224), stem, SimdLevel.Vector256));
    }

    [SimdFact(SimdLevel.Vector256)]
    public void With_avx2_a_1x1_layer_on_a_narrow_map_stays_on_the_packed_gemm_and_lists_the_tiles()
    {
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = 64, Kernel = Pair.Square(1) };

        Assert.Equal([ConvLowering.Im2Col, ConvLowering.Direct, ConvLowering.Pointwise], Candidates(new TensorShape(96, 14, 14), conv, SimdLevel.Vector256));
    }

    [SimdFact(SimdLevel.Vector256)]
    public void With_avx2_a_1x1_layer_whose_filters_fill_panels_better_than_its_plane_runs_pointwise_first()
    {
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = 160, Kernel = Pair.Square(1) };

        Assert.Equal(ConvLowering.Pointwise, Candidates(new TensorShape(96, 7, 7), conv, SimdLevel.Vector256)[0]);
    }

    [SimdTheory(SimdLevel.Vector256)]
    [InlineData(16, 30, 1)]   // K = 16: runs of 16 panels; 30 filters, the last row panel of two
    [InlineData(32, 96, 2)]   // K = 32: runs of 8 on two threads, a chunk ending inside a run
    [InlineData(48, 20, 1)]   // K = 48: panel by panel (a run's B rows would leave L1)
    public void With_avx2_a_shallow_1x1_layer_on_a_wide_map_gets_the_packed_gemms_bits_from_its_runs_of_panels(int c, int m, int threads)
    {
        const int batch = 3, h = 20, w = 56;
        ModelSpec spec = TestModels.Spec(new TensorShape(c, h, w), new LayerSpec { Type = "conv2d", Name = "conv", Filters = m, Kernel = Pair.Square(1) });
        float[] x = TestModels.Random(batch * c * h * w, seed: 5);

        float[] inPlace = Forward(ConvLowering.ImplicitGemm), packed = Forward(ConvLowering.Im2Col);

        Assert.Equal(packed, inPlace);

        float[] Forward(ConvLowering lowering)
        {
            var options = new EngineOptions { Simd = SimdLevel.Vector256, Threads = threads, Lowerings = new Dictionary<int, ConvLowering> { [0] = lowering } };
            Model model = Model.Create(spec, WeightInitializer.Initialize(spec, 1), options);
            Assert.Equal(lowering.Name(), Conv(model).Lowering);
            return GuardedMemory.Forward(model, x, batch);
        }
    }

    [SimdTheory(SimdLevel.Vector256)]
    [InlineData(384, 48)]    // 22 blocks of positions in groups of 10, 10 and 2; two filter panels
    [InlineData(512, 200)]   // groups of 8, 8 and 6; nine filter panels, the last 8 of 24
    public void With_avx2_two_threads_on_one_image_of_a_pointwise_layer_give_one_threads_bits(int c, int m)
    {
        const int h = 13, w = 13;
        ModelSpec spec = TestModels.Spec(new TensorShape(c, h, w), new LayerSpec { Type = "conv2d", Name = "conv", Filters = m, Kernel = Pair.Square(1) });
        float[] x = TestModels.Random(c * h * w, seed: 8);

        Assert.Equal(Forward(1), Forward(2));

        float[] Forward(int threads)
        {
            var options = new EngineOptions { Simd = SimdLevel.Vector256, Threads = threads, Lowerings = new Dictionary<int, ConvLowering> { [0] = ConvLowering.Pointwise } };
            Model model = Model.Create(spec, WeightInitializer.Initialize(spec, 1), options);
            Assert.Equal("pointwise", Conv(model).Lowering);
            return GuardedMemory.Forward(model, x, 1);
        }
    }

    [Fact]
    public void The_scalar_level_has_one_lowering_so_nothing_to_measure()
    {
        Assert.Equal([ConvLowering.Im2Col], Candidates(new TensorShape(16, 20, 56), Conv3x3(64), SimdLevel.Scalar));
    }

    [SimdFact(SimdLevel.Vector512)]
    public void A_1x1_layer_on_a_wide_map_puts_pointwise_tiles_first()
    {
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = 96, Kernel = Pair.Square(1) };

        Assert.Equal([ConvLowering.Pointwise, ConvLowering.Direct, ConvLowering.ImplicitGemm, ConvLowering.Im2Col], Candidates(new TensorShape(16, 40, 40), conv, SimdLevel.Vector512));
    }

    [SimdFact(SimdLevel.Vector512)]
    public void A_layer_the_fixed_rules_give_the_gemm_still_lists_the_tiles_that_can_run_it()
    {
        // 40 filters on 13x13: pointwise tiles would waste 24 of 64 lanes and direct tiles take 16s, so the fixed plan packs im2col panels.
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = 40, Kernel = Pair.Square(1) };

        Assert.Equal([ConvLowering.Im2Col, ConvLowering.Pointwise], Candidates(new TensorShape(256, 13, 13), conv, SimdLevel.Vector512));
    }

    [SimdFact(SimdLevel.Vector512)]
    public void A_shallow_3x3_layer_lists_direct_tiles_after_the_fixed_choice()
    {
        // K = 36: below the depth where the fixed plan takes direct tiles, which can still run it.

        Assert.Equal([ConvLowering.ImplicitGemm, ConvLowering.Direct, ConvLowering.Im2Col], Candidates(new TensorShape(4, 20, 56), Conv3x3(32), SimdLevel.Vector512));
    }

    [SimdFact(SimdLevel.Vector512)]
    public void A_strided_1x1_layer_that_direct_tiles_can_read_in_place_puts_them_first()
    {
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = 128, Kernel = Pair.Square(1), Stride = Pair.Square(2) };

        Assert.Equal([ConvLowering.Direct, ConvLowering.Pointwise, ConvLowering.Im2Col], Candidates(new TensorShape(64, 56, 56), conv, SimdLevel.Vector512));
    }

    [Fact]
    public void A_1x1_layer_on_a_1x1_map_is_a_dense_product_with_no_lowering_to_choose()
    {
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = 8, Kernel = Pair.Square(1) };

        Assert.Empty(Candidates(new TensorShape(16, 1, 1), conv, Simd.Best));
        var error = Assert.Throws<ArgumentException>(() => Build(TestModels.Spec(new TensorShape(16, 1, 1), conv), Simd.Best, ConvLowering.Im2Col, out _));
        Assert.Contains("dense product", error.Message);
    }

    [Fact]
    public void Forcing_a_lowering_the_shape_cannot_take_names_those_it_can()
    {
        // 8 filters: not even the 16 of a one-vector direct tile.
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = 8, Kernel = Pair.Square(3), Padding = Padding.Of(1, 1) };

        var error = Assert.Throws<ArgumentException>(() => Build(TestModels.Spec(new TensorShape(4, 10, 10), conv), Simd.Best, ConvLowering.Direct, out _));

        Assert.Contains("direct cannot run this layer", error.Message);
        Assert.Contains("im2col", error.Message);
    }

    [Fact]
    public void Forcing_a_lowering_on_a_depthwise_layer_is_refused()
    {
        ModelSpec spec = TestModels.Spec(new TensorShape(8, 10, 10), TestGraphs.Depthwise("dw", 8, 3, 1, 1));

        var error = Assert.Throws<ArgumentException>(() => Build(spec, Simd.Best, ConvLowering.Im2Col, out _));

        Assert.Contains("one lowering", error.Message);
    }

    private static LayerSpec Conv3x3(int filters) => new() { Type = "conv2d", Name = "conv", Filters = filters, Kernel = Pair.Square(3), Padding = Padding.Of(1, 1) };

    private static ConvLowering[] Candidates(TensorShape input, LayerSpec conv, SimdLevel simd) =>
        [.. Conv(Build(TestModels.Spec(input, conv), simd, lowering: null, out _)).Candidates];

    private static Conv2D Conv(Model model) => (Conv2D)model.RunningLayer(0);

    /// <summary>A model of the spec with random weights, its layer 0 forced to <paramref name="lowering"/> (null: the fixed choice).</summary>
    internal static Model Build(ModelSpec spec, SimdLevel simd, ConvLowering? lowering, out Dictionary<string, float[]> tensors)
    {
        WeightSet weights = WeightInitializer.Initialize(spec, 1);
        tensors = weights.AllFloat32().ToDictionary(t => t.Name, t => t.Data);
        var forced = lowering is { } l ? new Dictionary<int, ConvLowering> { [0] = l } : null;
        return Model.Create(spec, weights, new EngineOptions { Simd = simd, Threads = 1, Lowerings = forced });
    }
}
