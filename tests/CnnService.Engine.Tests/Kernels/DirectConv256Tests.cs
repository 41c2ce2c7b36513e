using CnnService.Engine.Format;
using CnnService.Engine.Kernels;
using CnnService.Engine.Layers;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Layers;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Kernels;

/// <summary>
/// <see cref="DirectConv256"/>, the AVX2 twin of <see cref="DirectConv"/>'s tiles: every case of <see cref="Conv2DTests"/> that
/// direct tiles can run (whole tiles, 13, rows of 7 in pairs, rows of 12 in overlapping halves, stride 2, 16 and 48 filters,
/// depths past one block) gives the AVX-512 tiles' bits. Its agreement with the reference loop, under guarded memory, is
/// <see cref="ConvLoweringTests.Every_lowering_a_shape_admits_matches_the_direct_convolution"/>'s at the Vector256 level.
/// </summary>
public class DirectConv256Tests
{
    public static IEnumerable<object[]> DirectCases() =>
        Conv2DTests.Cases.Where(c => DirectConv.Runs((int)c[4], OutputHeight(c), OutputWidth(c), (int)c[8]));

    [SimdTheory(SimdLevel.Vector512)]
    [MemberData(nameof(DirectCases))]
    public void The_avx2_tiles_give_the_bits_of_the_avx512_tiles(int n, int c, int h, int w, int m, int kh, int kw, int sh, int sw, Padding padding, bool reflect)
    {
        ModelSpec spec = TestModels.Spec(new TensorShape(c, h, w), Conv2DTests.CaseLayer(m, kh, kw, sh, sw, padding, reflect), new LayerSpec { Type = "relu" });
        Model wide = ConvLoweringTests.Build(spec, SimdLevel.Vector512, ConvLowering.Direct, out _);
        Model narrow = ConvLoweringTests.Build(spec, SimdLevel.Vector256, ConvLowering.Direct, out _);
        float[] x = TestModels.Random(n * c * h * w, seed: 3);

        Assert.Equal("direct", ((Conv2D)narrow.RunningLayer(0)).Lowering);
        Assert.Equal(TestModels.Forward(wide, x, n), TestModels.Forward(narrow, x, n));
    }

    /// <summary>Inputs (channels, height, width), kernel, stride and padding of direct layers whose tiles take every pass shape:
    /// whole tiles, a tile moved back, 13, rows of 7 in pairs with a half tile, rows of 12 in halves, stride 2, 25 taps, two depth blocks.</summary>
    public static TheoryData<int, int, int, int, int, int> PassShapes => new()
    {
        { 40, 9, 14, 3, 1, 1 }, { 40, 6, 20, 3, 1, 1 }, { 40, 9, 13, 3, 1, 1 }, { 40, 7, 7, 3, 1, 1 },
        { 40, 8, 12, 3, 1, 1 }, { 40, 9, 27, 3, 2, 1 }, { 24, 9, 16, 5, 1, 2 }, { 240, 6, 14, 3, 1, 1 },
    };

    [SimdTheory(SimdLevel.Vector256)]
    [MemberData(nameof(PassShapes))]
    public void A_filter_gets_the_same_bits_in_a_tile_of_32_as_in_a_tile_of_16(int c, int h, int w, int kernel, int stride, int pad)
    {
        // A tile of 32 runs four vectors a pass, one of 16 two (the passes every tile ran before): the same sums in the same order.
        var input = new TensorShape(c, h, w);
        LayerSpec Layer(int filters) => Conv2DTests.CaseLayer(filters, kernel, kernel, stride, stride, Padding.Of(pad, pad), reflect: false);
        Model wide = ConvLoweringTests.Build(TestModels.Spec(input, Layer(32)), SimdLevel.Vector256, ConvLowering.Direct, out var tensors);
        float[] weights = tensors["conv.weight"], bias = tensors["conv.bias"];
        int perFilter = weights.Length / 32, plane = wide.OutputShape.H * wide.OutputShape.W;
        float[] x = TestModels.Random(2 * c * h * w, seed: 5);

        float[] all = TestModels.Forward(wide, x, 2);

        foreach (int from in new[] { 0, 16 })
        {
            var half = new Dictionary<string, float[]>
            {
                ["conv.weight"] = weights[(from * perFilter)..((from + 16) * perFilter)],
                ["conv.bias"] = bias[from..(from + 16)],
            };
            Model narrow = Model.Create(TestModels.Spec(input, Layer(16)), new TensorWeights(half),
                new EngineOptions { Simd = SimdLevel.Vector256, Threads = 1, Lowerings = new Dictionary<int, ConvLowering> { [0] = ConvLowering.Direct } });
            float[] some = TestModels.Forward(narrow, x, 2);
            for (int n = 0; n < 2; n++)
                Assert.Equal(some.AsSpan(n * 16 * plane, 16 * plane).ToArray(), all.AsSpan((n * 32 + from) * plane, 16 * plane).ToArray());
        }
    }

    [SimdFact(SimdLevel.Vector256)]
    public void A_row_of_seven_in_pairs_and_a_row_of_twelve_in_halves_each_reach_every_output()
    {
        // The passes across a tile's two halves follow the jump to the next row (7x7) or back to OW - 7 (12): a NaN at one input
        // position reaches exactly the outputs whose windows hold it.
        foreach (int width in new[] { 7, 12 })
        {
            ModelSpec spec = TestModels.Spec(new TensorShape(64, 7, width), Conv2DTests.CaseLayer(32, 1, 1, 1, 1, Padding.Zero, false));
            Model model = ConvLoweringTests.Build(spec, SimdLevel.Vector256, ConvLowering.Direct, out _);
            for (int at = 0; at < 7 * width; at++)
            {
                float[] x = TestModels.Random(64 * 7 * width, seed: 4);
                x[5 * 7 * width + at] = float.NaN;

                float[] y = TestModels.Forward(model, x, 1);

                for (int filter = 0; filter < 32; filter++)
                    for (int p = 0; p < 7 * width; p++) Assert.Equal(p == at, float.IsNaN(y[filter * 7 * width + p]));
            }
        }
    }

    private static int OutputHeight(object[] c) => Window((int)c[2], (int)c[5], (int)c[7], (Padding)c[9], top: true);

    private static int OutputWidth(object[] c) => Window((int)c[3], (int)c[6], (int)c[8], (Padding)c[9], top: false);

    private static int Window(int size, int kernel, int stride, Padding padding, bool top) => padding.Kind switch
    {
        PaddingKind.Same => (size + stride - 1) / stride,
        PaddingKind.Valid => (size - kernel) / stride + 1,
        _ => (size + (top ? padding.Top + padding.Bottom : padding.Left + padding.Right) - kernel) / stride + 1,
    };
}
