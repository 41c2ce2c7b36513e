using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Kernels;

/// <summary>
/// <see cref="PointwiseGemm256"/>, the AVX2 pointwise lowering: a 1x1 convolution as the GEMM transposed, positions broadcast
/// and filters in the lanes. Called directly here, on planes whose last block of 8 positions is short and filters that leave
/// a panel of 24 part empty; through layers and networks it runs in <c>ConvLoweringTests</c> (every case the pointwise
/// lowering admits, under guarded memory) and the ONNX parity tests.
/// </summary>
public unsafe class PointwiseGemm256Tests
{
    [SimdTheory(SimdLevel.Vector256)]
    [InlineData(16, 49, 40, "none")]     // 7x7: six blocks and one of a single position; 40 filters, the second panel 16 of 24
    [InlineData(320, 49, 1280, "relu")]  // MobileNet V2's last layer: two depth blocks of 160
    [InlineData(33, 13, 7, "clip")]      // odd depth, one short block after a whole one, a panel of 7 filters
    [InlineData(64, 196, 24, "relu")]    // 14x14: whole blocks only, one whole panel
    [InlineData(1200, 49, 48, "none")]   // a 7x7 plane past 256 KB packed: groups of three blocks
    public void Each_output_is_the_sum_over_channels_with_bias_and_activation_and_nothing_else_is_written(int c, int p, int m, string activation)
    {
        FusedActivation act = Activation(activation);
        float[] x = TestModels.Random(c * (p + 5), seed: 11), w = TestModels.Random(m * c, seed: 12), b = TestModels.Random(m, seed: 13);
        nint inPlane = p + 5, outPlane = p + 3; // channels and filters further apart than the plane: the gaps must stay untouched

        float[] y = Run(x, inPlane, c, p, w, b, m, outPlane, act, splitPanelsAt: -1);

        for (int f = 0; f < m; f++)
        {
            for (int q = 0; q < p; q++)
            {
                double sum = b[f];
                for (int ch = 0; ch < c; ch++) sum += (double)w[f * c + ch] * x[ch * inPlane + q];
                Assert.Equal(act.Apply((float)sum), y[f * outPlane + q], Math.Max(1e-4, Math.Abs(sum) * 1e-5));
            }

            for (nint q = p; q < outPlane; q++) Assert.Equal(Sentinel, y[f * outPlane + q]);
        }
    }

    [SimdFact(SimdLevel.Vector256)]
    public void A_nan_at_one_position_reaches_exactly_that_positions_outputs()
    {
        const int c = 24, p = 49, m = 40;
        float[] w = TestModels.Random(m * c, seed: 2), b = TestModels.Random(m, seed: 3);
        for (int at = 0; at < p; at++)
        {
            float[] x = TestModels.Random(c * p, seed: 1);
            x[7 * p + at] = float.NaN;

            float[] y = Run(x, p, c, p, w, b, m, p, FusedActivation.Relu, splitPanelsAt: -1);

            for (int f = 0; f < m; f++)
                for (int q = 0; q < p; q++) Assert.Equal(q == at, float.IsNaN(y[f * p + q]));
        }
    }

    [SimdFact(SimdLevel.Vector256)]
    public void Calls_that_split_the_filter_panels_give_the_bits_of_one_call()
    {
        // Threads sharing an image split its panels, each packing the positions itself.
        const int c = 96, p = 196, m = 144;
        float[] x = TestModels.Random(c * p, seed: 5), w = TestModels.Random(m * c, seed: 6), b = TestModels.Random(m, seed: 7);

        float[] whole = Run(x, p, c, p, w, b, m, p, FusedActivation.None, splitPanelsAt: -1);
        float[] split = Run(x, p, c, p, w, b, m, p, FusedActivation.None, splitPanelsAt: 2);

        Assert.Equal(whole, split);
    }

    [Fact]
    public void A_plane_whose_packed_positions_fit_in_256_KB_is_one_group_and_a_larger_one_goes_in_groups_of_about_128_KB()
    {
        Assert.Equal(7, PointwiseGemm256.Group(1152, 49));   // EfficientNet-B0's deepest 7x7 layers: 252 KB
        Assert.Equal(3, PointwiseGemm256.Group(1200, 49));   // 262.5 KB: 128 KB / 37.5 KB a block
        Assert.Equal(25, PointwiseGemm256.Group(320, 196));  // 250 KB
        Assert.Equal(7, PointwiseGemm256.Group(576, 196));   // 450 KB: 128 KB / 18 KB a block
    }

    [Fact]
    public void Panels_and_blocks_are_the_register_tiles_columns_and_rows()
    {
        Assert.Equal(PointwiseGemm256.Filters, MicroKernel256.NR);
        Assert.Equal(PointwiseGemm256.Positions, MicroKernel256.MR);
    }

    [Fact]
    public void Filters_that_fill_panels_better_than_the_plane_fills_the_gemms_take_it()
    {
        Assert.True(PointwiseGemm256.Suits(1280, 49));   // 99 % of 54 panels against 49 of 72 columns
        Assert.True(PointwiseGemm256.Suits(160, 7 * 7));
        Assert.False(PointwiseGemm256.Suits(64, 196));   // 64 of 72 against 196 of 216: no better
        Assert.False(PointwiseGemm256.Suits(96, 3136));  // a wide plane wastes nothing in the GEMM
    }

    private const float Sentinel = -12345f;

    private static FusedActivation Activation(string name) => name switch
    {
        "relu" => FusedActivation.Relu,
        "clip" => FusedActivation.Clamp(-0.5f, 0.75f),
        _ => FusedActivation.None,
    };

    /// <summary>The layer's output rows (<paramref name="outPlane"/> apart, <see cref="Sentinel"/> where nothing is written),
    /// by one call over every panel and group in turn, or by two calls split at panel <paramref name="splitPanelsAt"/>.</summary>
    private static float[] Run(float[] x, nint inPlane, int c, int p, float[] w, float[] b, int m, nint outPlane, FusedActivation act, int splitPanelsAt)
    {
        float[] packed = PointwiseGemm256.Pack(w, m, c), bias = PointwiseGemm256.PackBias(b, m);
        var y = new float[m * outPlane];
        Array.Fill(y, Sentinel);
        var scratch = new float[PointwiseGemm256.ScratchFloats(c, p)];
        int panels = PointwiseGemm256.Panels(m), group = PointwiseGemm256.Group(c, p), blocks = PointwiseGemm256.Blocks(p);
        fixed (float* px = x, pw = packed, pb = bias, py = y, ps = scratch)
        {
            for (int block0 = 0; block0 < blocks; block0 += group)
            {
                int block1 = Math.Min(blocks, block0 + group);
                if (splitPanelsAt < 0)
                {
                    PointwiseGemm256.Run(pw, pb, px, inPlane, c, p, py, outPlane, m, act, 0, panels, block0, block1, ps);
                    continue;
                }

                PointwiseGemm256.Run(pw, pb, px, inPlane, c, p, py, outPlane, m, act, 0, splitPanelsAt, block0, block1, ps);
                PointwiseGemm256.Run(pw, pb, px, inPlane, c, p, py, outPlane, m, act, splitPanelsAt, panels, block0, block1, ps);
            }
        }

        return y;
    }
}
