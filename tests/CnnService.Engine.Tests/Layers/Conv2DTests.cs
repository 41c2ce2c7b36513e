using CnnService.Engine.Layers;
using CnnService.Engine.Format;
using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Layers;

public class Conv2DTests
{
    // N, C, H, W, filters, kh, kw, sh, sw, padding, reflect
    public static readonly object[][] Cases =
    [
        [1, 1, 28, 28, 32, 3, 3, 1, 1, Padding.Zero, false],            // the Keras MNIST layer
        [17, 3, 13, 11, 7, 3, 3, 2, 2, Padding.Of(1, 1), false],       // stride 2, padding, odd sizes, batch 17
        [17, 1, 9, 10, 5, 5, 5, 1, 1, Padding.Of(2, 2), true],         // reflect padding
        [2, 3, 8, 8, 16, 1, 1, 1, 1, Padding.Zero, false],             // 1x1: straight to GEMM
        [3, 5, 12, 7, 9, 3, 2, 2, 1, Padding.Of(1, 0), false],         // rectangular kernel, stride and padding
        [1, 3, 7, 7, 33, 3, 3, 1, 1, Padding.Same, true],              // "same", reflect, M not a multiple of 8
        [17, 2, 5, 5, 3, 5, 5, 1, 1, Padding.Valid, false],            // kernel covers the whole input
        [2, 4, 6, 9, 8, 4, 4, 1, 1, Padding.Same, false],              // even kernel: "same" pads more at bottom/right
        [1, 64, 10, 10, 64, 3, 3, 1, 1, Padding.Of(1, 1), false],      // a deep layer: K = 576
        [2, 3, 12, 45, 9, 3, 3, 1, 1, Padding.Of(1, 1), false],        // wide: implicit GEMM (B read in place)
        [1, 3, 16, 64, 10, 3, 3, 1, 1, Padding.Valid, false],          // TinyVGG's first layer shape, implicit GEMM
        [17, 2, 7, 40, 17, 3, 3, 1, 1, Padding.Of(1, 1), true],        // implicit GEMM with reflect padding, batch 17
        [1, 32, 9, 36, 8, 1, 1, 1, 1, Padding.Zero, false],            // 1x1 on a wide map, implicit GEMM
        [2, 64, 5, 40, 9, 3, 3, 1, 1, Padding.Of(1, 1), false],        // implicit GEMM, K = 576 in one run of depth
        [1, 232, 4, 38, 9, 3, 3, 1, 1, Padding.Of(1, 1), false],       // implicit GEMM, K = 2088: deeper than one run, in depth blocks
        [1, 43, 4, 38, 9, 3, 3, 1, 1, Padding.Of(1, 1), false],        // implicit GEMM, K = 387: with AVX2 depth blocks of 192, 192 and 3, each from a tap 0
        [1, 16, 3, 56, 20, 3, 3, 1, 1, Padding.Of(1, 1), false],       // implicit GEMM on rows of 56: with AVX2 seven aligned panels, all in place
        [1, 43, 2, 32, 9, 3, 3, 1, 1, Padding.Of(1, 1), false],        // aligned panels over depth blocks (K = 387), the last panel 16 positions
        [2, 12, 3, 16, 11, 3, 3, 1, 1, Padding.Of(1, 1), true],        // aligned panels, each image's last of 24 positions across rows, reflect
        [1, 64, 6, 27, 64, 3, 3, 1, 1, Padding.Of(1, 1), false],       // direct: two channel tiles, rows of 27 as a tile of 14 and one of 13
        [2, 16, 5, 54, 32, 3, 3, 1, 1, Padding.Of(1, 1), true],        // direct with reflect padding, batch 2, four tiles a row
        [3, 8, 7, 18, 32, 5, 5, 1, 1, Padding.Valid, false],           // direct, 5x5 unpadded (read in place), OW = 14: one tile a row
        [1, 8, 6, 16, 32, 3, 2, 1, 1, Padding.Valid, false],           // direct, 3x2: six taps, yet not three kernel rows of three
        [1, 64, 7, 7, 160, 1, 1, 1, 1, Padding.Zero, false],           // pointwise on 7x7: 49 positions, three tiles and a half
        [2, 33, 13, 13, 144, 1, 1, 1, 1, Padding.Zero, false],         // pointwise, odd C, 144 filters: a last tile of one vector, batch 2; 13x13 in tiles of 13
        [2, 16, 2, 13, 40, 1, 1, 1, 1, Padding.Zero, false],           // pointwise on 26 positions: two tiles of 13, a last tile of 8 filters in one vector through scratch
        [3, 48, 15, 13, 80, 1, 1, 2, 2, Padding.Zero, false],          // pointwise (80 filters), stride 2 on odd sizes: the input subsampled first
        [2, 40, 15, 13, 64, 1, 1, 2, 2, Padding.Zero, false],          // 1x1 stride 2 on direct tiles: every other input read in place, rows of 7 in pairs
        [1, 32, 9, 11, 264, 1, 1, 2, 1, Padding.Zero, false],          // pointwise, stride 2 by 1, short last channel tile
        [2, 32, 2, 7, 32, 1, 1, 1, 1, Padding.Zero, false],            // pointwise on exactly one tile of 14 positions
        [1, 16, 9, 9, 96, 1, 1, 1, 1, Padding.Zero, false],            // pointwise at the shallowest depth it takes, C = 16
        [2, 41, 14, 15, 80, 1, 1, 1, 1, Padding.Zero, false],          // pointwise, 80 filters: the last tile one vector of 16, stored in place
        [2, 24, 4, 4, 56, 1, 1, 1, 1, Padding.Zero, false],            // pointwise on 16 positions: a whole tile, then half a tile moved back over 5, a short channel tile
        [1, 20, 3, 11, 64, 1, 1, 1, 1, Padding.Zero, false],           // pointwise on 33 positions: two whole tiles, then half a tile moved back over 2
        [2, 512, 7, 7, 64, 3, 3, 1, 1, Padding.Of(1, 1), false],       // direct, weights over 1 MB: filters outside rows, two rows of 7 a tile
        [1, 256, 6, 14, 128, 3, 3, 1, 1, Padding.Of(1, 1), false],     // direct, weights over 1 MB, one row a tile
        [2, 3, 23, 27, 32, 3, 3, 2, 2, Padding.Of(1, 1), false],       // direct, MobileNet's stem in small: stride 2, K = 27, OW = 14
        [3, 16, 11, 53, 32, 3, 3, 2, 2, Padding.Of(1, 1), false],      // direct, stride 2: OW = 27, a tile of 14 and one of 13
        [1, 16, 4, 20, 32, 3, 3, 1, 1, Padding.Of(1, 1), false],       // direct: rows of 20, the last tile moved back over 8
        [1, 64, 13, 13, 64, 3, 3, 1, 1, Padding.Of(1, 1), false],      // direct on rows of 13: one tile of 13 a row
        [2, 48, 5, 12, 32, 3, 3, 1, 1, Padding.Of(1, 1), false],       // direct on rows of 12: halves sharing columns 5 and 6
        [1, 32, 9, 25, 32, 3, 3, 2, 2, Padding.Of(1, 1), false],       // direct, stride 2 onto rows of 13
        [1, 3, 27, 27, 64, 7, 7, 2, 2, Padding.Of(3, 3), false],       // direct, ResNet's stem in small: 7x7 stride 2, K = 147, OW = 14
        [2, 64, 7, 7, 32, 3, 3, 1, 1, Padding.Of(1, 1), false],        // direct on 7x7: tiles of two rows, the last pair moved back
        [2, 8, 14, 13, 64, 3, 3, 2, 2, Padding.Of(1, 1), true],        // direct, stride 2 down to 7x7, two rows a tile, reflect
        [1, 16, 16, 14, 32, 3, 3, 3, 1, Padding.Of(1, 1), false],      // direct, stride 3 down the rows, 1 along them
        [2, 3, 21, 29, 16, 3, 3, 2, 2, Padding.Of(1, 1), false],       // direct, MobileNet V3's stem in small: 16 filters, one vector a tile
        [1, 64, 5, 30, 48, 3, 3, 1, 1, Padding.Of(1, 1), true],        // direct, 48 filters: a tile of 32, then one of 16; rows moved back
        [2, 64, 4, 13, 16, 3, 3, 1, 1, Padding.Of(1, 1), false],       // direct, 16 filters on rows of 13
        [1, 64, 3, 12, 48, 3, 3, 1, 1, Padding.Of(1, 1), false],       // direct, 48 filters on rows of 12: the halves of a 16-filter tile
        [2, 64, 7, 7, 16, 3, 3, 1, 1, Padding.Of(1, 1), false],        // direct, 16 filters on 7x7: two rows a tile, an odd last row
        [1, 40, 9, 15, 48, 1, 1, 2, 2, Padding.Zero, false],           // 1x1 stride 2 on direct tiles with 48 filters
    ];

    public static IEnumerable<object[]> CasesAtEveryLevel() =>
        from level in TestModels.SimdLevels() from c in Cases select c.Append(level[0]).ToArray();

    [Theory]
    [MemberData(nameof(CasesAtEveryLevel))]
    public void Forward_matches_the_direct_convolution(int n, int c, int h, int w, int m, int kh, int kw, int sh, int sw, Padding padding, bool reflect, SimdLevel simd)
    {
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(c, h, w), CaseLayer(m, kh, kw, sh, sw, padding, reflect)), simd, out var t);
        float[] x = TestModels.Random(n * c * h * w, seed: 2);

        float[] expected = Expected(x, n, c, h, w, t, m, kh, kw, sh, sw, padding, reflect, model.OutputShape);

        TestModels.AssertClose(expected, TestModels.Forward(model, x, n));
    }

    /// <summary>The layer of a case: a conv2d named "conv".</summary>
    internal static LayerSpec CaseLayer(int m, int kh, int kw, int sh, int sw, Padding padding, bool reflect) => new()
    {
        Type = "conv2d", Name = "conv", Filters = m, Kernel = new Pair(kh, kw), Stride = new Pair(sh, sw),
        Padding = padding, PaddingMode = reflect ? "reflect" : "zeros",
    };

    /// <summary>A case's convolution of <paramref name="x"/> by the plain reference loop, with the weights in <paramref name="t"/>.</summary>
    internal static float[] Expected(float[] x, int n, int c, int h, int w, Dictionary<string, float[]> t, int m, int kh, int kw, int sh, int sw, Padding padding, bool reflect, TensorShape o)
    {
        (int top, int left) = padding.Kind switch
        {
            PaddingKind.Same => ((kh - 1) / 2, (kw - 1) / 2),
            PaddingKind.Valid => (0, 0),
            _ => (padding.Top, padding.Left),
        };
        return Reference.Conv2D(x, n, c, h, w, t["conv.weight"], t["conv.bias"], m, kh, kw, sh, sw, top, left, o.H, o.W, reflect);
    }

    public static IEnumerable<object[]> ReluCases() =>
        from level in TestModels.SimdLevels() from shape in new[] { (3, 10, 9), (8, 32, 28) } select new object[] { level[0], shape.Item1, shape.Item2, shape.Item3 };

    [Theory]
    [MemberData(nameof(ReluCases))]
    public void A_following_relu_is_fused_and_still_clamps(SimdLevel simd, int channels, int filters, int size)
    {
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = filters, Kernel = Pair.Square(3), Padding = Padding.Of(1, 1) };
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(channels, size, size), conv, new LayerSpec { Type = "relu" }), simd, out var t);
        float[] x = TestModels.Random(5 * channels * size * size, seed: 3);

        float[] expected = Reference.Map(Reference.Conv2D(x, 5, channels, size, size, t["conv.weight"], t["conv.bias"], filters, 3, 3, 1, 1, 1, 1, size, size, false), v => Math.Max(v, 0));

        Assert.True(((CnnService.Engine.Layers.Conv2D)model.Layers[0]).FusedRelu);
        TestModels.AssertClose(expected, TestModels.Forward(model, x, 5));
    }

    [Theory]
    [InlineData(false, 8)]
    [InlineData(true, 8)]
    [InlineData(false, 32)]   // direct tiles (AVX-512)
    public void Split_across_threads_matches_the_direct_convolution(bool reflect, int filters)
    {
        // Big enough that both the padding copy and the GEMM are split into chunks; three images, so a chunk starts mid-image.
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = filters, Kernel = Pair.Square(3), Padding = Padding.Of(1, 1), PaddingMode = reflect ? "reflect" : "zeros" };
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(32, 42, 42), conv), Simd.Best, out var t, threads: 2);
        float[] x = TestModels.Random(3 * 32 * 42 * 42, seed: 5);

        float[] expected = Reference.Conv2D(x, 3, 32, 42, 42, t["conv.weight"], t["conv.bias"], filters, 3, 3, 1, 1, 1, 1, 42, 42, reflect);
        TestModels.AssertClose(expected, TestModels.Forward(model, x, 3));
    }

    [SimdTheory(SimdLevel.Vector256)]
    [InlineData(2, 4, 56, 1, "implicit-gemm")]   // wide, stride 1: B read in place, 8 columns a panel
    [InlineData(8, 32, 56, 1, "implicit-gemm")]  // direct tiles could run it, but where both can the GEMM's tiles are faster
    [InlineData(8, 32, 56, 2, "direct")]         // the same, strided: every other input along the row
    [InlineData(8, 32, 7, 1, "direct")]          // rows of 7, too narrow for the GEMM's panels: a tile takes two
    [InlineData(8, 32, 13, 1, "direct")]         // rows of 13: one tile of 13
    [InlineData(8, 32, 14, 1, "direct")]         // rows of 14: one whole tile
    [InlineData(2, 4, 28, 1, "implicit-gemm")]   // two discarded columns in 30, but 4 filters: packing 8-column panels costs more
    [InlineData(2, 32, 28, 1, "im2col")]         // the same with 32 filters, which share each packed panel
    [InlineData(2, 4, 12, 1, "implicit-gemm")]   // narrow: two discarded columns in 14, but 4 filters, and a packed panel a run per row
    [InlineData(2, 32, 12, 1, "im2col")]         // the same with 32 filters
    [InlineData(2, 4, 3, 1, "im2col")]           // two discarded columns in 5: too many
    [InlineData(2, 4, 56, 2, "im2col")]          // strided
    public void With_avx2_the_plan_reads_a_wide_stride_1_map_in_place(int channels, int filters, int width, int stride, string lowering)
    {
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = filters, Kernel = Pair.Square(3), Stride = Pair.Square(stride), Padding = Padding.Of(1, 1) };
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(channels, 8, width), conv), SimdLevel.Vector256, out _);

        Assert.Equal(lowering, ((CnnService.Engine.Layers.Conv2D)model.Layers[0]).Lowering);
    }

    [SimdTheory(SimdLevel.Vector512)]   // the pointwise path is AVX-512 only
    [InlineData(2, 4, 56, 1, "implicit-gemm")]   // wide, stride 1: B read in place
    [InlineData(2, 4, 28, 1, "im2col")]          // narrow: the discarded columns would cost more than packing
    [InlineData(2, 4, 56, 2, "im2col")]          // strided
    [InlineData(8, 32, 56, 1, "direct")]         // whole tiles of 32 filters, K = 72: channels in the lanes
    [InlineData(8, 32, 56, 2, "direct")]         // the same, strided: every other input along the row
    [InlineData(8, 32, 7, 1, "direct")]          // rows of 7: a tile takes two
    [InlineData(8, 32, 13, 1, "direct")]         // rows of 13 (SqueezeNet's last stage): one tile of 13
    [InlineData(8, 32, 12, 1, "direct")]         // rows of 12: overlapping by two, one position in six computed twice
    [InlineData(8, 32, 11, 1, "im2col")]         // rows of 11: three in fourteen computed twice, too many
    [InlineData(8, 32, 56, 3, "im2col")]         // stride 3 along the row
    [InlineData(8, 36, 56, 1, "implicit-gemm")]  // filters not a multiple of 32
    [InlineData(4, 32, 56, 1, "implicit-gemm")]  // K = 36: too shallow to pay for the transposes
    [InlineData(3, 32, 56, 2, "direct")]         // K = 27 at stride 2 (a stem): the alternative is a strided im2col gather
    [InlineData(8, 32, 36, 1, "implicit-gemm")]  // 36 = 3 tiles of 14 less 6: too much recomputed
    public void The_plan_chooses_the_lowering_by_shape(int channels, int filters, int width, int stride, string lowering)
    {
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = filters, Kernel = Pair.Square(3), Stride = Pair.Square(stride), Padding = Padding.Of(1, 1) };
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(channels, 8, width), conv), SimdLevel.Vector512, out _);

        Assert.Equal(lowering, ((CnnService.Engine.Layers.Conv2D)model.Layers[0]).Lowering);
    }

    [Theory]
    [MemberData(nameof(TestModels.SimdLevels), MemberType = typeof(TestModels))]
    public void A_1x1_convolution_on_a_1x1_map_runs_as_a_dense_layer(SimdLevel simd)
    {
        // A squeeze-and-excitation layer: 40 channels squeezed to 10 on the 1x1 map a global average pool leaves.
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = 10, Kernel = Pair.Square(1) };
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(40, 1, 1), conv), simd, out _);

        Assert.Equal("dense", ((CnnService.Engine.Layers.Conv2D)model.Layers[0]).Lowering);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(3, 2)]
    [InlineData(4, 1)]   // from 4 images the GEMM, as a dense layer
    [InlineData(9, 2)]
    public void A_1x1_convolution_on_a_1x1_map_computes_what_a_dense_layer_with_its_weights_does(int batch, int threads)
    {
        // Bit for bit: the same product, kernel for kernel, the ReLU fused in both.
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = 100, Kernel = Pair.Square(1) };
        Model convModel = TestModels.Build(TestModels.Spec(new TensorShape(600, 1, 1), conv, new LayerSpec { Type = "relu" }), Simd.Best, out var t, threads);
        var weights = WeightSet.FromTensors([new NamedTensor("fc.weight", [100, 600], t["conv.weight"]), new NamedTensor("fc.bias", [100], t["conv.bias"])]);
        var dense = new LayerSpec { Type = "dense", Name = "fc", Units = 100 };
        Model denseModel = Model.Create(TestModels.Spec(new TensorShape(600, 1, 1), new LayerSpec { Type = "flatten" }, dense, new LayerSpec { Type = "relu" }), weights,
            new EngineOptions { Simd = Simd.Best, Threads = threads });
        float[] x = TestModels.Random(batch * 600, seed: 3);

        float[] actual = TestModels.Forward(convModel, x, batch);
        Assert.Equal(TestModels.Forward(denseModel, x, batch), actual);
        float[] expected = Reference.Map(Reference.Conv2D(x, batch, 600, 1, 1, t["conv.weight"], t["conv.bias"], 100, 1, 1, 1, 1, 0, 0, 1, 1, false), v => Math.Max(v, 0));
        TestModels.AssertClose(expected, actual);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 2)]
    [InlineData(3, 1)]
    [InlineData(3, 2)]
    public void A_pointwise_layer_split_across_threads_matches_the_direct_convolution(int batch, int stride)
    {
        // 200 filters on 40 channels: seven channel tiles, the last short; 27x27 (stride 1) or 14x14 (stride 2) positions.
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = 200, Kernel = Pair.Square(1), Stride = Pair.Square(stride) };
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(40, 27, 27), conv, new LayerSpec { Type = "relu" }), Simd.Best, out var t, threads: 2);
        float[] x = TestModels.Random(batch * 40 * 27 * 27, seed: 7);

        int o = (27 - 1) / stride + 1;
        float[] expected = Reference.Map(Reference.Conv2D(x, batch, 40, 27, 27, t["conv.weight"], t["conv.bias"], 200, 1, 1, stride, stride, 0, 0, o, o, false), v => Math.Max(v, 0));
        TestModels.AssertClose(expected, TestModels.Forward(model, x, batch));
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(1, 3)]
    [InlineData(3, 2)]
    public void A_deep_pointwise_layer_split_mid_block_across_threads_matches_the_direct_convolution(int batch, int threads)
    {
        // 600 channels on 13x13: 13 position tiles taken 3 at a time (blocks of 3, 3, 3, 3 and 1) by three channel tiles,
        // so the chunks' even shares of tiles end inside a block, part way through its channel tiles.
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = 96, Kernel = Pair.Square(1) };
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(600, 13, 13), conv), Simd.Best, out var t, threads: threads);
        float[] x = TestModels.Random(batch * 600 * 13 * 13, seed: 9);

        if (Simd.Best == SimdLevel.Vector512) Assert.Equal("pointwise", ((CnnService.Engine.Layers.Conv2D)model.Layers[0]).Lowering);
        float[] expected = Reference.Conv2D(x, batch, 600, 13, 13, t["conv.weight"], t["conv.bias"], 96, 1, 1, 1, 1, 0, 0, 13, 13, false);
        TestModels.AssertClose(expected, TestModels.Forward(model, x, batch));
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(1, 3)]
    [InlineData(3, 2)]
    public void A_pointwise_layer_whose_weights_outgrow_L2_takes_the_whole_plane_as_one_block_and_matches_the_direct_convolution(int batch, int threads)
    {
        // SqueezeNet's classifier in small: weights of this machine's L2 on 13x13, so the chunks split the filters, not the plane.
        int c = 256, m = (int)(BatchChunking.L2Bytes / (c * sizeof(float)));
        Assert.Equal(PointwiseConv.Positions(13 * 13), PointwiseConv.Block(m, c, 13 * 13, shared: false));
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = m, Kernel = Pair.Square(1) };
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(c, 13, 13), conv, new LayerSpec { Type = "relu" }), Simd.Best, out var t, threads: threads);
        float[] x = TestModels.Random(batch * c * 13 * 13, seed: 11);

        if (Simd.Best == SimdLevel.Vector512) Assert.Equal("pointwise", ((CnnService.Engine.Layers.Conv2D)model.Layers[0]).Lowering);
        float[] expected = Reference.Map(Reference.Conv2D(x, batch, c, 13, 13, t["conv.weight"], t["conv.bias"], m, 1, 1, 1, 1, 0, 0, 13, 13, false), v => Math.Max(v, 0));
        TestModels.AssertClose(expected, TestModels.Forward(model, x, batch));
    }

    [Fact]
    public void A_pointwise_layer_takes_position_blocks_of_about_128_KB_of_input_while_its_weights_fit_L2_or_its_input_does_not_fit_half()
    {
        int c = 256, positions = PointwiseConv.Positions(13 * 13), small = (int)(BatchChunking.L2Bytes / (c * sizeof(float))) - 32;
        Assert.Equal(128 * 1024 / (c * DirectConv.Width * sizeof(float)), PointwiseConv.Block(small, c, 13 * 13, shared: false));
        int wide = (int)(BatchChunking.BudgetBytes / (c * sizeof(float))) + 1; // positions whose input passes half of L2
        Assert.True(PointwiseConv.Block(4 * small, c, wide, shared: false) < PointwiseConv.Positions(wide));
        Assert.True(PointwiseConv.Block(small, c, 13 * 13, shared: false) < positions);
    }

    [Fact]
    public void Threads_sharing_a_pointwise_call_split_the_filters_where_they_outnumber_the_positions()
    {
        // 960 -> 64 on 7x7 (weights 240 KB, under every L2 we run on, so one thread alone splits the plane): each thread
        // half the weights and all the input, not all the weights and half the input.
        Assert.True(PointwiseConv.Block(64, 960, 7 * 7, shared: false) < PointwiseConv.Positions(7 * 7));
        Assert.Equal(PointwiseConv.Positions(7 * 7), PointwiseConv.Block(64, 960, 7 * 7, shared: true));
        // Its 384 -> 64 on 14x14 has fewer filters than positions: the threads keep splitting the plane.
        Assert.Equal(PointwiseConv.Block(64, 384, 14 * 14, shared: false), PointwiseConv.Block(64, 384, 14 * 14, shared: true));
        Assert.True(PointwiseConv.Block(64, 384, 14 * 14, shared: true) < PointwiseConv.Positions(14 * 14));
    }

    [Fact]
    public void A_pointwise_layer_split_by_filters_across_threads_gives_the_bits_of_one_thread()
    {
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = 160, Kernel = Pair.Square(1) };
        TensorShape input = new(960, 7, 7);
        Model one = TestModels.Build(TestModels.Spec(input, conv), Simd.Best, out var t, threads: 1);
        Model two = TestModels.Build(TestModels.Spec(input, conv), Simd.Best, out _, threads: 2);
        float[] x = TestModels.Random(input.Size, seed: 12);

        if (Simd.Best == SimdLevel.Vector512) Assert.Equal("pointwise", ((CnnService.Engine.Layers.Conv2D)two.Layers[0]).Lowering);
        float[] expected = Reference.Conv2D(x, 1, 960, 7, 7, t["conv.weight"], t["conv.bias"], 160, 1, 1, 1, 1, 0, 0, 7, 7, false);
        TestModels.AssertClose(expected, TestModels.Forward(two, x, 1));
        Assert.Equal(TestModels.Forward(one, x, 1), TestModels.Forward(two, x, 1));
    }

    [Theory]
    [InlineData(1, 2, 14)]   // 14 -> 7: two rows a tile
    [InlineData(3, 2, 14)]
    [InlineData(1, 3, 27)]   // 27 -> 14: a row a tile, stored padded for the 3x3 after it
    [InlineData(2, 2, 27)]
    public void A_stride_2_direct_layer_whose_weights_outgrow_L2_splits_its_filters_across_threads_and_matches_the_direct_convolution(int batch, int threads, int size)
    {
        // 64 filters over enough channels that their weights pass this machine's L2; then a 3x3 that reads them padded.
        int c = (int)(BatchChunking.L2Bytes / (64 * 9 * sizeof(float))) + 8, o = (size - 1) / 2 + 1;
        var down = new LayerSpec { Type = "conv2d", Name = "down", Filters = 64, Kernel = Pair.Square(3), Stride = Pair.Square(2), Padding = Padding.Of(1, 1) };
        var next = new LayerSpec { Type = "conv2d", Name = "next", Filters = 32, Kernel = Pair.Square(3), Padding = Padding.Of(1, 1) };
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(c, size, size), down, next), Simd.Best, out var t, threads: threads);
        float[] x = TestModels.Random(batch * c * size * size, seed: 12);

        if (Simd.Best == SimdLevel.Vector512) Assert.Equal("direct", ((CnnService.Engine.Layers.Conv2D)model.Layers[0]).Lowering);
        float[] y = Reference.Conv2D(x, batch, c, size, size, t["down.weight"], t["down.bias"], 64, 3, 3, 2, 2, 1, 1, o, o, false);
        float[] expected = Reference.Conv2D(y, batch, 64, o, o, t["next.weight"], t["next.bias"], 32, 3, 3, 1, 1, 1, 1, o, o, false);
        TestModels.AssertClose(expected, TestModels.Forward(model, x, batch));
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(3, 2)]
    [InlineData(2, 3)]
    public void A_7x7_direct_layer_whose_weights_outgrow_L2_splits_its_filters_across_threads_and_matches_the_direct_convolution(int batch, int threads)
    {
        // ResNet's last stage in small: 7 rows (three pairs and a half tile) that threads would split unevenly, so they split the filters.
        int c = (int)(BatchChunking.L2Bytes / (64 * 9 * sizeof(float))) + 8;
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = 64, Kernel = Pair.Square(3), Padding = Padding.Of(1, 1) };
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(c, 7, 7), conv, new LayerSpec { Type = "relu" }), Simd.Best, out var t, threads: threads);
        float[] x = TestModels.Random(batch * c * 49, seed: 13);

        if (Simd.Best == SimdLevel.Vector512) Assert.Equal("direct", ((CnnService.Engine.Layers.Conv2D)model.Layers[0]).Lowering);
        float[] expected = Reference.Map(Reference.Conv2D(x, batch, c, 7, 7, t["conv.weight"], t["conv.bias"], 64, 3, 3, 1, 1, 1, 1, 7, 7, false), v => Math.Max(v, 0));
        TestModels.AssertClose(expected, TestModels.Forward(model, x, batch));
    }

    [Theory]
    [InlineData(1, 14, 2)]   // 14 -> 7: tiles of two rows, the last row half a tile
    [InlineData(3, 14, 2)]
    [InlineData(3, 7, 1)]
    [InlineData(1, 53, 2)]   // 53 -> 27: one row a tile, the last tile of each row moved back
    [InlineData(3, 53, 2)]
    [InlineData(1, 13, 1)]   // rows of 13: one tile of 13 a row
    [InlineData(3, 25, 2)]   // 25 -> 13
    public void Direct_tiles_strided_or_on_short_rows_split_across_threads_match_the_direct_convolution(int batch, int size, int stride)
    {
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = 64, Kernel = Pair.Square(3), Stride = Pair.Square(stride), Padding = Padding.Of(1, 1) };
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(24, size, size), conv), Simd.Best, out var t, threads: 2);
        float[] x = TestModels.Random(batch * 24 * size * size, seed: 8);

        int o = (size - 1) / stride + 1;
        if (Simd.Best == SimdLevel.Vector512) Assert.Equal("direct", ((CnnService.Engine.Layers.Conv2D)model.Layers[0]).Lowering);
        float[] expected = Reference.Conv2D(x, batch, 24, size, size, t["conv.weight"], t["conv.bias"], 64, 3, 3, stride, stride, 1, 1, o, o, false);
        TestModels.AssertClose(expected, TestModels.Forward(model, x, batch));
    }

    [Theory]
    [InlineData(13, 256, 1, 2)]   // SqueezeNet's 13x13 64 -> 256: 13 rows of 8 filter tiles, 52 units a thread
    [InlineData(13, 64, 3, 2)]    // three images: the second thread starts mid-row in the second image
    [InlineData(13, 64, 1, 3)]    // three threads on 26 units
    [InlineData(55, 64, 1, 2)]    // SqueezeNet's 55x55 expansion: 110 units
    public void A_direct_layer_on_an_odd_count_of_rows_splits_mid_row_and_computes_the_bits_of_one_thread(int size, int filters, int batch, int threads)
    {
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = filters, Kernel = Pair.Square(3), Padding = Padding.Of(1, 1) };
        ModelSpec spec = TestModels.Spec(new TensorShape(32, size, size), conv);
        Model split = TestModels.Build(spec, Simd.Best, out var t, threads);
        Model alone = TestModels.Build(spec, Simd.Best, out _, threads: 1);
        float[] x = TestModels.Random(batch * 32 * size * size, seed: 11);

        float[] y = TestModels.Forward(split, x, batch);

        Assert.Equal(TestModels.Forward(alone, x, batch), y);
        TestModels.AssertClose(Reference.Conv2D(x, batch, 32, size, size, t["conv.weight"], t["conv.bias"], filters, 3, 3, 1, 1, 1, 1, size, size, false), y);
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 3)]
    public void A_direct_layer_split_mid_row_still_zeroes_the_whole_border_it_writes_for_the_next_one(int batch, int threads)
    {
        // conv1's 13 rows of 2 filter tiles split mid-row; it writes conv2's padded input, whose border its chunks zero row by row.
        // The two 1x1 layers before leave values in the buffer conv1 then writes padded.
        var conv0 = new LayerSpec { Type = "conv2d", Name = "conv0", Filters = 32, Kernel = Pair.Square(1) };
        var conv0b = new LayerSpec { Type = "conv2d", Name = "conv0b", Filters = 32, Kernel = Pair.Square(1) };
        var conv1 = new LayerSpec { Type = "conv2d", Name = "conv1", Filters = 64, Kernel = Pair.Square(3), Padding = Padding.Of(1, 1) };
        var conv2 = new LayerSpec { Type = "conv2d", Name = "conv2", Filters = 32, Kernel = Pair.Square(3), Padding = Padding.Of(1, 1) };
        ModelSpec spec = TestModels.Spec(new TensorShape(32, 13, 13), conv0, conv0b, conv1, conv2);
        var direct = Simd.Best == SimdLevel.Scalar ? null : new Dictionary<int, ConvLowering> { [2] = ConvLowering.Direct }; // else Winograd's
        Model split = TestModels.Build(spec, Simd.Best, out var t, threads, lowerings: direct);
        Model alone = TestModels.Build(spec, Simd.Best, out _, threads: 1, lowerings: direct);
        float[] x = TestModels.Random(batch * 32 * 13 * 13, seed: 12);

        float[] y = TestModels.Forward(split, x, batch);

        Assert.Equal(Simd.Best != SimdLevel.Scalar, ((CnnService.Engine.Layers.Conv2D)split.Layers[3]).InputArrivesPadded);
        Assert.Equal(TestModels.Forward(alone, x, batch), y);
        float[] x0 = Reference.Conv2D(x, batch, 32, 13, 13, t["conv0.weight"], t["conv0.bias"], 32, 1, 1, 1, 1, 0, 0, 13, 13, false);
        float[] x0b = Reference.Conv2D(x0, batch, 32, 13, 13, t["conv0b.weight"], t["conv0b.bias"], 32, 1, 1, 1, 1, 0, 0, 13, 13, false);
        float[] x1 = Reference.Conv2D(x0b, batch, 32, 13, 13, t["conv1.weight"], t["conv1.bias"], 64, 3, 3, 1, 1, 1, 1, 13, 13, false);
        TestModels.AssertClose(Reference.Conv2D(x1, batch, 64, 13, 13, t["conv2.weight"], t["conv2.bias"], 32, 3, 3, 1, 1, 1, 1, 13, 13, false), y);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Pointwise_and_strided_direct_layers_allocate_nothing_once_warm(int threads)
    {
        // 3x3 stride 2 (direct, 27 -> 14), 1x1 stride 2 (pointwise, 88 filters: subsampled to 7x7), 3x3 on rows of 7 (direct, two rows a tile), 1x1 (pointwise).
        ModelSpec spec = TestModels.Spec(new TensorShape(16, 27, 27),
            new LayerSpec { Type = "conv2d", Name = "a", Filters = 32, Kernel = Pair.Square(3), Stride = Pair.Square(2), Padding = Padding.Of(1, 1) },
            new LayerSpec { Type = "conv2d", Name = "b", Filters = 88, Kernel = Pair.Square(1), Stride = Pair.Square(2) },
            new LayerSpec { Type = "conv2d", Name = "c", Filters = 64, Kernel = Pair.Square(3), Padding = Padding.Of(1, 1) },
            new LayerSpec { Type = "conv2d", Name = "d", Filters = 96, Kernel = Pair.Square(1) });
        Model model = TestModels.Build(spec, Simd.Best, out _, threads);
        if (Simd.Best == SimdLevel.Vector512)
            Assert.Equal(["direct", "pointwise", "direct", "pointwise"], model.Layers.Select(l => ((CnnService.Engine.Layers.Conv2D)l).Lowering));
        float[] x = TestModels.Random(3 * model.InputShape.Size, seed: 9), y = new float[3 * model.OutputShape.Size];
        model.Forward(x, y, 3);

        Assert.Equal(0, Allocations.Fewest(5, () =>
        {
            for (int i = 0; i < 5; i++) model.Forward(x, y, 3);
        }));
    }

    [SimdTheory(SimdLevel.Vector512)]   // pointwise tiles are AVX-512 only
    [InlineData(64, 160, 7, 1, "pointwise")]       // 7x7: 14-position tiles fit 49 positions better than 32-column panels
    [InlineData(64, 136, 14, 2, "pointwise")]      // strided, filters not in tiles of 16: the input subsampled, then the same tiles
    [InlineData(64, 144, 14, 2, "direct")]         // strided, tiles of 32 and a last of 16: direct tiles read every other input
    [InlineData(64, 160, 14, 2, "direct")]         // strided, whole tiles of filters (ResNet's downsampling): direct tiles read every other input
    [InlineData(64, 144, 28, 1, "pointwise")]      // 144 filters: five tiles of 32, one lane in nine wasted
    [InlineData(480, 80, 14, 1, "pointwise")]      // 80 filters (EfficientNet): three tiles, one lane in six wasted
    [InlineData(16, 96, 56, 1, "pointwise")]       // 16 channels (MobileNet's 16 -> 96 expansion): still worth the transposes
    [InlineData(8, 64, 56, 1, "implicit-gemm")]    // 8 channels: too shallow for the transposes
    [InlineData(64, 48, 14, 1, "direct")]          // 48 filters would waste a quarter of the pointwise lanes; direct tiles take 32 and 16
    [InlineData(64, 40, 14, 1, "im2col")]          // 40: a pointwise tile of 8 would waste more than a quarter, direct tiles need 16s
    [InlineData(64, 64, 3, 1, "im2col")]           // 9 positions: less than one tile
    [InlineData(24, 56, 4, 1, "pointwise")]        // 16 positions: a whole tile and half a tile
    public void The_plan_lowers_a_1x1_convolution_by_shape(int channels, int filters, int size, int stride, string lowering)
    {
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = filters, Kernel = Pair.Square(1), Stride = Pair.Square(stride) };
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(channels, size, size), conv), SimdLevel.Vector512, out _);

        Assert.Equal(lowering, ((CnnService.Engine.Layers.Conv2D)model.Layers[0]).Lowering);
    }

    [Theory]
    [InlineData(1, 1, "zeros", 28, 32)]
    [InlineData(3, 2, "zeros", 28, 32)]
    [InlineData(16, 2, "zeros", 28, 32)]     // the batch split across threads: each share runs the whole plan
    [InlineData(2, 1, "reflect", 28, 32)]    // reflect padding is not zeros: the second layer pads for itself
    [InlineData(3, 2, "zeros", 13, 32)]      // rows of 13: a tile of 13 straight into the padded rows
    [InlineData(3, 2, "zeros", 28, 48)]      // 48 filters: the last tile's 16 rows and their borders, no more
    public void A_convolution_writes_the_next_ones_padded_input_and_the_pair_still_matches(int n, int threads, string mode, int w, int filters)
    {
        // conv1 runs direct tiles (K = 144); conv2's "same" 4x4 pads 1 above and left, 2 below and right.
        // The two 1x1 layers before them leave values in the buffer conv1 then writes padded: its border must be zeroed.
        var conv0 = new LayerSpec { Type = "conv2d", Name = "conv0", Filters = 16, Kernel = Pair.Square(1) };
        var conv0b = new LayerSpec { Type = "conv2d", Name = "conv0b", Filters = 16, Kernel = Pair.Square(1) };
        var conv1 = new LayerSpec { Type = "conv2d", Name = "conv1", Filters = filters, Kernel = Pair.Square(3), Padding = Padding.Of(1, 1) };
        var conv2 = new LayerSpec { Type = "conv2d", Name = "conv2", Filters = 8, Kernel = Pair.Square(4), Padding = Padding.Same, PaddingMode = mode };
        ModelSpec spec = TestModels.Spec(new TensorShape(16, 9, w), conv0, conv0b, conv1, new LayerSpec { Type = "relu" }, conv2);
        Model model = TestModels.Build(spec, Simd.Best, out var t, threads);
        float[] x = TestModels.Random(n * 16 * 9 * w, seed: 6);

        float[] x0 = Reference.Conv2D(x, n, 16, 9, w, t["conv0.weight"], t["conv0.bias"], 16, 1, 1, 1, 1, 0, 0, 9, w, false);
        float[] x0b = Reference.Conv2D(x0, n, 16, 9, w, t["conv0b.weight"], t["conv0b.bias"], 16, 1, 1, 1, 1, 0, 0, 9, w, false);
        float[] hidden = Reference.Map(Reference.Conv2D(x0b, n, 16, 9, w, t["conv1.weight"], t["conv1.bias"], filters, 3, 3, 1, 1, 1, 1, 9, w, false), v => Math.Max(v, 0));
        float[] expected = Reference.Conv2D(hidden, n, filters, 9, w, t["conv2.weight"], t["conv2.bias"], 8, 4, 4, 1, 1, 1, 1, 9, w, mode == "reflect");

        bool fused = Simd.Best != SimdLevel.Scalar && mode == "zeros";
        Assert.Equal(fused, ((CnnService.Engine.Layers.Conv2D)model.Layers[4]).InputArrivesPadded);
        TestModels.AssertClose(expected, TestModels.Forward(model, x, n));
    }

    [Fact]
    public void A_trace_sees_plain_outputs_where_the_forward_pass_writes_them_padded()
    {
        var conv1 = new LayerSpec { Type = "conv2d", Name = "conv1", Filters = 32, Kernel = Pair.Square(3), Padding = Padding.Of(1, 1) };
        var conv2 = new LayerSpec { Type = "conv2d", Name = "conv2", Filters = 8, Kernel = Pair.Square(3), Padding = Padding.Of(1, 1) };
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(16, 9, 28), conv1, new LayerSpec { Type = "relu" }, conv2), Simd.Best, out var t);
        float[] x = TestModels.Random(16 * 9 * 28, seed: 7);

        float[] conv1Out = Reference.Conv2D(x, 1, 16, 9, 28, t["conv1.weight"], t["conv1.bias"], 32, 3, 3, 1, 1, 1, 1, 9, 28, false);
        float[] conv2Out = Reference.Conv2D(Reference.Map(conv1Out, v => Math.Max(v, 0)), 1, 32, 9, 28, t["conv2.weight"], t["conv2.bias"], 8, 3, 3, 1, 1, 1, 1, 9, 28, false);
        float[][] trace = model.Trace(x);

        TestModels.AssertClose(conv1Out, trace[0]);
        TestModels.AssertClose(conv2Out, trace[2]);
        TestModels.AssertClose(conv2Out, TestModels.Forward(model, x, 1));   // and the next forward pass pads again
    }

    [Fact]
    public void Without_bias_loads_no_bias_tensor()
    {
        var conv = new LayerSpec { Type = "conv2d", Name = "conv", Filters = 4, Kernel = Pair.Square(3), UseBias = false };
        Model model = TestModels.Build(TestModels.Spec(new TensorShape(2, 6, 6), conv), Simd.Best, out var t);
        float[] x = TestModels.Random(2 * 36, seed: 4);

        Assert.False(t.ContainsKey("conv.bias"));
        TestModels.AssertClose(Reference.Conv2D(x, 1, 2, 6, 6, t["conv.weight"], null, 4, 3, 3, 1, 1, 0, 0, 4, 4, false), TestModels.Forward(model, x, 1));
    }

    [Theory]
    [InlineData(3, 4, 0, "zeros", "larger than the padded input")]
    [InlineData(3, 2, 0, "reflect", "reflect padding must be smaller")]
    [InlineData(3, 3, 2, "zeros", "\"same\" needs stride 1")]
    [InlineData(3, 3, 0, "mirror", "padding_mode")]
    public void Impossible_configurations_fail_at_load_naming_the_layer(int size, int kernel, int sameWithStride, string mode, string message)
    {
        var conv = new LayerSpec
        {
            Type = "conv2d", Name = "conv7", Filters = 2, Kernel = Pair.Square(kernel), PaddingMode = mode,
            Padding = sameWithStride > 0 ? Padding.Same : mode == "reflect" ? Padding.Of(3, 3) : Padding.Zero,
            Stride = sameWithStride > 0 ? Pair.Square(sameWithStride) : null,
        };
        var e = Assert.Throws<ModelFormatException>(() => TestModels.Build(TestModels.Spec(new TensorShape(1, size, size), conv), Simd.Best, out _));

        Assert.Contains("conv7", e.Message);
        Assert.Contains(message, e.Message);
    }
}
