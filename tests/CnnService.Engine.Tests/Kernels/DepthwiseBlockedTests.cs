using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Kernels;

/// <summary>
/// The blocked path (a vector's channels in the lanes: 16 with AVX-512, 8 with AVX2) against the banded path plane by plane,
/// bit for bit (same sums in the same order) under exact activations, and against the scalar twin within 1e-5 relative under
/// every fused activation (SiLU's vector and scalar forms differ in the last bits), at each vector level this CPU runs.
/// </summary>
public unsafe class DepthwiseBlockedTests
{
    private const int Channels = 32;   // two groups of 16, four of 8

    // H, W, kh, kw, sh, sw, top, left, bottom, right
    public static readonly object[][] Geometries =
    [
        [14, 14, 3, 3, 2, 2, 1, 1, 1, 1],      // MobileNet V2's 576 x 14x14 -> 7x7
        [28, 28, 3, 3, 2, 2, 1, 1, 1, 1],      // two transposes per row
        [56, 56, 3, 3, 2, 2, 1, 1, 1, 1],      // the largest buffer: four transposes per row, 57 rows
        [14, 14, 5, 5, 2, 2, 2, 2, 2, 2],      // EfficientNet's 672 x 14x14 -> 7x7
        [14, 14, 3, 3, 1, 1, 1, 1, 1, 1],      // stride 1 on a 14-wide row
        [14, 14, 5, 5, 1, 1, 2, 2, 2, 2],
        [16, 16, 3, 3, 1, 1, 1, 1, 1, 1],      // a whole transpose per row; the last padding column is past it
        [9, 13, 3, 2, 2, 3, 0, 1, 2, 0],       // uneven strides, padding and kernel
        [20, 33, 3, 3, 2, 2, 1, 1, 1, 1],      // three transposes per row, the last one column wide
        [5, 5, 3, 3, 2, 2, 0, 0, 0, 0],        // no padding: outputs 2x2, fewer than a block of four in a row
    ];

    /// <summary>Every geometry at every vector level this CPU runs.</summary>
    public static IEnumerable<object[]> GeometriesAtEachLevel() =>
        TestModels.VectorLevels().SelectMany(level => Geometries.Select(g => g.Append(level[0]).ToArray()));

    [VectorTheory]
    [MemberData(nameof(GeometriesAtEachLevel))]
    public void Every_listed_geometry_takes_the_blocked_path(int h, int w, int kh, int kw, int sh, int sw, int top, int left, int bottom, int right, SimdLevel level)
    {
        Assert.True(DepthwiseConv.IsBlocked(level, Geometry(h, w, kh, kw, sh, sw, top, left, bottom, right), Channels, 1));
    }

    [Fact]
    public void Wide_stride_1_planes_partial_groups_multipliers_and_other_levels_stay_on_the_other_paths()
    {
        DepthwiseGeometry s2 = Geometry(14, 14, 3, 3, 2, 2, 1, 1, 1, 1);
        Assert.False(DepthwiseConv.IsBlocked(SimdLevel.Vector512, Geometry(28, 28, 3, 3, 1, 1, 1, 1, 1, 1), Channels, 1));   // measured no faster
        Assert.False(DepthwiseConv.IsBlocked(SimdLevel.Vector512, Geometry(112, 112, 3, 3, 2, 2, 1, 1, 1, 1), Channels, 1)); // buffer too large
        Assert.False(DepthwiseConv.IsBlocked(SimdLevel.Vector512, Geometry(7, 7, 3, 3, 1, 1, 1, 1, 1, 1), Channels, 1));     // the flat path's
        Assert.False(DepthwiseConv.IsBlocked(SimdLevel.Vector512, s2, 24, 1));                                                // half a group
        Assert.False(DepthwiseConv.IsBlocked(SimdLevel.Vector512, s2, Channels, 2));                                          // two outputs per channel
        Assert.False(DepthwiseConv.IsBlocked(SimdLevel.Scalar, s2, Channels, 1));
    }

    [SimdFact(SimdLevel.Vector256)]
    public void With_avx2_groups_are_of_eight_channels()
    {
        DepthwiseGeometry s2 = Geometry(14, 14, 3, 3, 2, 2, 1, 1, 1, 1);
        Assert.True(DepthwiseConv.IsBlocked(SimdLevel.Vector256, s2, 24, 1));
        Assert.False(DepthwiseConv.IsBlocked(SimdLevel.Vector256, s2, 20, 1));
        Assert.False(DepthwiseConv.IsBlocked(SimdLevel.Vector256, Geometry(28, 28, 3, 3, 1, 1, 1, 1, 1, 1), Channels, 1));
    }

    [VectorTheory]
    [MemberData(nameof(GeometriesAtEachLevel))]
    public void The_blocked_path_matches_the_banded_path_bit_for_bit(int h, int w, int kh, int kw, int sh, int sw, int top, int left, int bottom, int right, SimdLevel level)
    {
        DepthwiseGeometry g = Geometry(h, w, kh, kw, sh, sw, top, left, bottom, right);
        float[] input = TestModels.Random(Channels * h * w, seed: 7, scale: 4f), weights = TestModels.Random(Channels * kh * kw, seed: 8),
            bias = TestModels.Random(Channels, seed: 9);
        foreach (var (pre, post) in DepthwiseFusions.Exact)
            Assert.Equal(Banded(level, input, weights, bias, pre, post, g), Blocked(level, input, weights, bias, pre, post, g));
    }

    [VectorTheory]
    [MemberData(nameof(GeometriesAtEachLevel))]
    public void The_blocked_path_matches_the_scalar_twin(int h, int w, int kh, int kw, int sh, int sw, int top, int left, int bottom, int right, SimdLevel level)
    {
        DepthwiseGeometry g = Geometry(h, w, kh, kw, sh, sw, top, left, bottom, right);
        float[] input = TestModels.Random(Channels * h * w, seed: 7, scale: 4f), weights = TestModels.Random(Channels * kh * kw, seed: 8),
            bias = TestModels.Random(Channels, seed: 9);
        foreach (var (pre, post) in DepthwiseFusions.All)
            TestModels.AssertClose(Scalar(input, weights, bias, pre, post, g), Blocked(level, input, weights, bias, pre, post, g), 1e-5f);
    }

    [SimdFact(SimdLevel.Vector256)]
    public void With_avx2_a_silu_after_the_sums_gives_the_blocked_path_the_banded_paths_bits()
    {
        // SiLU goes over each path's outputs in a pass of its own (IUnaryOperator.OwnPass), eight lanes wide in both: the same
        // function of the same sums, so the same bits, wherever a path keeps its outputs before it stores them.
        foreach (object[] row in Geometries)
        {
            int[] a = row.Cast<int>().ToArray();
            DepthwiseGeometry g = Geometry(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]);
            float[] input = TestModels.Random(Channels * g.H * g.W, seed: 7, scale: 4f), weights = TestModels.Random(Channels * g.KH * g.KW, seed: 8),
                bias = TestModels.Random(Channels, seed: 9);
            foreach (FusedActivation pre in new[] { FusedActivation.None, FusedActivation.Clamp(0, 6) })
                Assert.Equal(Banded(SimdLevel.Vector256, input, weights, bias, pre, FusedActivation.Silu, g),
                    Blocked(SimdLevel.Vector256, input, weights, bias, pre, FusedActivation.Silu, g));
        }
    }

    [VectorTheory]
    [MemberData(nameof(GeometriesAtEachLevel))]
    public void A_value_at_a_row_end_never_reaches_the_padding_or_the_next_row(int h, int w, int kh, int kw, int sh, int sw, int top, int left, int bottom, int right, SimdLevel level)
    {
        // NaN in the first and last column of every row: an output is NaN exactly where the twin's taps read those columns;
        // a transpose's columns past the row landing in the padding, or in the next row, would spread it.
        DepthwiseGeometry g = Geometry(h, w, kh, kw, sh, sw, top, left, bottom, right);
        float[] input = TestModels.Random(Channels * h * w, seed: 7), weights = TestModels.Random(Channels * kh * kw, seed: 8),
            bias = TestModels.Random(Channels, seed: 9);
        for (int r = 0; r < Channels * h; r++)
        {
            input[r * w] = float.NaN;
            input[r * w + w - 1] = float.NaN;
        }

        float[] expected = Scalar(input, weights, bias, FusedActivation.None, FusedActivation.None, g);
        float[] actual = Blocked(level, input, weights, bias, FusedActivation.None, FusedActivation.None, g);

        for (int i = 0; i < expected.Length; i++) Assert.True(float.IsNaN(expected[i]) == float.IsNaN(actual[i]), $"output {i}: expected {expected[i]}, got {actual[i]}");
    }

    [VectorTheory]
    [MemberData(nameof(TestModels.VectorLevels), MemberType = typeof(TestModels))]
    public void A_run_of_groups_matches_the_banded_path_across_an_image_boundary_and_writes_nothing_past_its_end(SimdLevel level)
    {
        // Three channel groups per image; the run starts at group 2 of image 0 and takes three groups, ending in image 1.
        const int groups = 3, first = 2, count = 3;
        int lanes = DepthwiseBlocked.Lanes(level), channels = groups * lanes;
        DepthwiseGeometry g = Geometry(14, 14, 3, 3, 2, 2, 1, 1, 1, 1);
        int planes = count * lanes;
        nint inPlane = g.H * g.W, outPlane = g.OH * g.OW;
        float[] input = TestModels.Random(planes * (int)inPlane, seed: 3, scale: 2f), weights = TestModels.Random(channels * 9, seed: 4),
            bias = TestModels.Random(channels, seed: 5);
        float[] packed = DepthwiseBlocked.Pack(level, weights, channels, 9);
        var expected = new float[planes * outPlane];
        var actual = new float[planes * outPlane + 64];
        actual.AsSpan((int)(planes * outPlane)).Fill(12345f);
        long floats = DepthwiseBlocked.ScratchFloats(level, g);
        var scratch = new float[floats + 64];
        scratch.AsSpan((int)floats).Fill(12345f);
        FusedActivation pre = FusedActivation.Clamp(0, 6), post = FusedActivation.Clamp(-0.5f, 3);

        var bandedScratch = new float[DepthwiseConv.ScratchFloats(g)];
        fixed (float* x = input, kw = weights, pk = packed, b = bias, y = expected, z = actual, sc = scratch, bs = bandedScratch)
        {
            for (int p = 0; p < planes; p++)
            {
                int ch = (first * lanes + p) % channels;
                DepthwiseConv.PlaneBanded(level, x + p * inPlane, kw + ch * 9, b + ch, 1, y + p * outPlane, pre, post, g, bs);
            }

            DepthwiseBlocked.Groups(level, x, inPlane, pk, b, z, outPlane, first, groups, count, pre, post, g, sc);
        }

        Assert.Equal(expected, actual.AsSpan(0, (int)(planes * outPlane)).ToArray());
        Assert.All(actual.AsSpan((int)(planes * outPlane)).ToArray(), v => Assert.Equal(12345f, v));
        Assert.All(scratch.AsSpan((int)floats).ToArray(), v => Assert.Equal(12345f, v));
    }

    private static DepthwiseGeometry Geometry(int h, int w, int kh, int kw, int sh, int sw, int top, int left, int bottom, int right) =>
        new(h, w, kh, kw, sh, sw, top, left, (h + top + bottom - kh) / sh + 1, (w + left + right - kw) / sw + 1);

    /// <summary>All <see cref="Channels"/> planes through the blocked path, its scratch filled with NaN first (a value read before it was written would show).</summary>
    private static float[] Blocked(SimdLevel level, float[] input, float[] weights, float[] bias, FusedActivation pre, FusedActivation post, DepthwiseGeometry g)
    {
        int taps = g.KH * g.KW, groups = Channels / DepthwiseBlocked.Lanes(level);
        float[] packed = DepthwiseBlocked.Pack(level, weights, Channels, taps);
        var output = new float[Channels * g.OH * g.OW];
        var scratch = new float[DepthwiseBlocked.ScratchFloats(level, g)];
        scratch.AsSpan().Fill(float.NaN);
        fixed (float* x = input, k = packed, b = bias, y = output, s = scratch)
            DepthwiseBlocked.Groups(level, x, g.H * g.W, k, b, y, g.OH * g.OW, 0, groups, groups, pre, post, g, s);
        return output;
    }

    private static float[] Banded(SimdLevel level, float[] input, float[] weights, float[] bias, FusedActivation pre, FusedActivation post, DepthwiseGeometry g)
    {
        int taps = g.KH * g.KW, inPlane = g.H * g.W, outPlane = g.OH * g.OW;
        var output = new float[Channels * outPlane];
        var scratch = new float[DepthwiseConv.ScratchFloats(g)];
        fixed (float* x = input, k = weights, b = bias, y = output, s = scratch)
            for (int c = 0; c < Channels; c++)
                DepthwiseConv.PlaneBanded(level, x + c * inPlane, k + c * taps, b + c, 1, y + c * outPlane, pre, post, g, s);
        return output;
    }

    private static float[] Scalar(float[] input, float[] weights, float[] bias, FusedActivation pre, FusedActivation post, DepthwiseGeometry g)
    {
        int taps = g.KH * g.KW, inPlane = g.H * g.W, outPlane = g.OH * g.OW;
        var output = new float[Channels * outPlane];
        fixed (float* x = input, k = weights, b = bias, y = output)
            for (int c = 0; c < Channels; c++)
                DepthwiseConv.PlaneScalar(x + c * inPlane, k + c * taps, b + c, 1, y + c * outPlane, pre, post, g);
        return output;
    }
}
