using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Kernels;

/// <summary>
/// The flat path for small stride-1 planes (AVX-512) against the banded path, bit for bit (same sums in the same order) under exact
/// activations (none, clamps), and against the scalar twin within 1e-5 relative under every fused activation: the twin
/// rounds each product before adding it, and SiLU's vector and scalar forms differ in the last bits (the banded path
/// itself takes SiLU in scalar at stride-2 borders and in Vector256 on narrow maps, the flat path always in Vector512).
/// </summary>
public unsafe class DepthwiseFlatTests
{
    // H, W, kh, kw, sh, sw, top, left, bottom, right, multiplier
    public static readonly object[][] Geometries =
    [
        [7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1],       // MobileNet V2's 7x7 layers: 49 outputs, four vectors, one block
        [7, 7, 5, 5, 1, 1, 2, 2, 2, 2, 1],       // EfficientNet's 5x5: five column shifts
        [8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1],       // 64 outputs, the largest plane taken, whole vectors
        [8, 8, 5, 5, 1, 1, 2, 2, 2, 2, 2],       // multiplier 2
        [7, 7, 7, 7, 1, 1, 3, 3, 3, 3, 1],       // 7x7 kernel, shifts -3..3
        [5, 3, 3, 3, 1, 1, 1, 1, 1, 1, 3],       // three columns, multiplier 3
        [1, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1],       // one pixel: every shifted copy all zero
        [4, 4, 3, 3, 1, 1, 0, 1, 2, 1, 1],       // uneven rows of padding (none above, two below)
        [6, 5, 3, 2, 1, 1, 2, 0, 0, 1, 1],       // rectangular kernel, uneven columns (right only)
        [2, 30, 3, 3, 1, 1, 1, 1, 1, 1, 1],      // two rows of 30: a row longer than a vector
    ];

    private static bool Flat(DepthwiseGeometry g) => Simd.IsSupported(SimdLevel.Vector512) && DepthwiseConv.IsFlat(SimdLevel.Vector512, g);

    [SimdTheory(SimdLevel.Vector512)]
    [MemberData(nameof(Geometries))]
    public void Every_listed_geometry_takes_the_flat_path_where_AVX512_runs(int h, int w, int kh, int kw, int sh, int sw, int top, int left, int bottom, int right, int mult)
    {
        _ = mult;
        Assert.True(DepthwiseConv.IsFlat(SimdLevel.Vector512, Geometry(h, w, kh, kw, sh, sw, top, left, bottom, right)));
    }

    [Fact]
    public void Large_planes_uneven_strides_and_narrow_outputs_stay_on_the_banded_path()
    {
        Assert.False(DepthwiseConv.IsFlat(SimdLevel.Vector512, Geometry(14, 14, 3, 3, 1, 1, 1, 1, 1, 1)));    // 196 outputs
        Assert.False(DepthwiseConv.IsFlat(SimdLevel.Vector512, Geometry(14, 14, 3, 3, 2, 2, 1, 1, 1, 1)));    // stride 2
        Assert.False(DepthwiseConv.IsFlat(SimdLevel.Vector512, Geometry(7, 7, 3, 3, 1, 2, 1, 1, 1, 1)));      // stride [1,2]
        Assert.False(DepthwiseConv.IsFlat(SimdLevel.Vector512, Geometry(7, 7, 3, 3, 1, 1, 1, 2, 1, 2)));      // OW 9 != W 7: padding wider than "same"
        Assert.False(DepthwiseConv.IsFlat(SimdLevel.Vector512, Geometry(7, 9, 3, 3, 1, 1, 1, 0, 1, 0)));      // OW 7 != W 9: "valid" across
        Assert.False(DepthwiseConv.IsFlat(SimdLevel.Vector256, Geometry(7, 7, 3, 3, 1, 1, 1, 1, 1, 1)));
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void The_flat_path_matches_the_banded_path_bit_for_bit(int h, int w, int kh, int kw, int sh, int sw, int top, int left, int bottom, int right, int mult)
    {
        DepthwiseGeometry g = Geometry(h, w, kh, kw, sh, sw, top, left, bottom, right);
        if (!Flat(g)) return;
        float[] input = TestModels.Random(h * w, seed: 7, scale: 4f), weights = TestModels.Random(mult * kh * kw, seed: 8), bias = TestModels.Random(mult, seed: 9);
        foreach (var (pre, post) in DepthwiseFusions.Exact)
        {
            float[] banded = RunPlane(banded: true, input, weights, bias, mult, pre, post, g);
            float[] flat = RunPlane(banded: false, input, weights, bias, mult, pre, post, g);

            Assert.Equal(banded, flat);
        }
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void The_flat_path_matches_the_scalar_twin(int h, int w, int kh, int kw, int sh, int sw, int top, int left, int bottom, int right, int mult)
    {
        DepthwiseGeometry g = Geometry(h, w, kh, kw, sh, sw, top, left, bottom, right);
        if (!Flat(g)) return;
        float[] input = TestModels.Random(h * w, seed: 7, scale: 4f), weights = TestModels.Random(mult * kh * kw, seed: 8), bias = TestModels.Random(mult, seed: 9);
        foreach (var (pre, post) in DepthwiseFusions.All)
        {
            var expected = new float[mult * g.OH * g.OW];
            fixed (float* x = input, k = weights, b = bias, y = expected)
                DepthwiseConv.PlaneScalar(x, k, b, mult, y, pre, post, g);

            TestModels.AssertClose(expected, RunPlane(banded: false, input, weights, bias, mult, pre, post, g), 1e-5f);
        }
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void A_value_at_a_row_end_never_reaches_the_next_row_start(int h, int w, int kh, int kw, int sh, int sw, int top, int left, int bottom, int right, int mult)
    {
        // NaN in the first and last input column: an output is NaN exactly where the twin's taps read those columns;
        // a tap wrapping past a row's end into its neighbour (a shifted copy without its zeroed columns) would spread it.
        DepthwiseGeometry g = Geometry(h, w, kh, kw, sh, sw, top, left, bottom, right);
        if (!Flat(g)) return;
        float[] input = TestModels.Random(h * w, seed: 7), weights = TestModels.Random(mult * kh * kw, seed: 8), bias = TestModels.Random(mult, seed: 9);
        for (int r = 0; r < h; r++)
        {
            input[r * w] = float.NaN;
            input[r * w + w - 1] = float.NaN;
        }

        var expected = new float[mult * g.OH * g.OW];
        fixed (float* x = input, k = weights, b = bias, y = expected)
            DepthwiseConv.PlaneScalar(x, k, b, mult, y, FusedActivation.None, FusedActivation.None, g);
        float[] actual = RunPlane(banded: false, input, weights, bias, mult, FusedActivation.None, FusedActivation.None, g);

        for (int i = 0; i < expected.Length; i++) Assert.True(float.IsNaN(expected[i]) == float.IsNaN(actual[i]), $"output {i}: expected {expected[i]}, got {actual[i]}");
    }

    [SimdTheory(SimdLevel.Vector512)]
    [InlineData(7, 7, 3, 1, 1, 2)]      // seven planes per group, then two; multiplier 2
    [InlineData(7, 7, 5, 1, 2, 1)]      // four per group, then one
    [InlineData(7, 7, 7, 1, 3, 1)]      // two per group
    [InlineData(4, 4, 3, 1, 1, 3)]      // multiplier 3
    public void A_run_of_planes_matches_each_plane_on_its_own_across_an_image_boundary(int h, int w, int k, int s, int pad, int mult)
    {
        // Five channels; the run starts at channel 3 of image 0 and ends in image 2, so the channel wraps twice.
        const int channels = 5, first = 3, count = 9;
        DepthwiseGeometry g = Geometry(h, w, k, k, s, s, pad, pad, pad, pad);
        nint inPlane = h * w, outPlanes = mult * g.OH * g.OW;
        float[] input = TestModels.Random(count * h * w, seed: 3, scale: 2f), weights = TestModels.Random(channels * mult * k * k, seed: 4),
            bias = TestModels.Random(channels * mult, seed: 5);
        var expected = new float[count * outPlanes];
        var actual = new float[count * outPlanes + 64];
        actual.AsSpan((int)(count * outPlanes)).Fill(12345f);
        long floats = DepthwiseConv.ScratchFloats(g);
        var scratch = new float[floats + 64];
        scratch.AsSpan((int)floats).Fill(12345f);
        FusedActivation pre = FusedActivation.Clamp(0, 6), post = FusedActivation.Clamp(-0.5f, 3);

        fixed (float* x = input, kw = weights, b = bias, y = expected, z = actual, sc = scratch)
        {
            for (int p = 0; p < count; p++)
            {
                int ch = (first + p) % channels;
                DepthwiseConv.PlaneBanded(SimdLevel.Vector512, x + p * inPlane, kw + ch * mult * k * k, b + ch * mult, mult, y + p * outPlanes, pre, post, g, sc);
            }

            DepthwiseConv.Planes(SimdLevel.Vector512, x, inPlane, kw, b, mult, z, outPlanes, first, channels, count, pre, post, g, sc);
        }

        Assert.Equal(expected, actual.AsSpan(0, (int)(count * outPlanes)).ToArray());
        Assert.All(actual.AsSpan((int)(count * outPlanes)).ToArray(), v => Assert.Equal(12345f, v));
        Assert.All(scratch.AsSpan((int)floats).ToArray(), v => Assert.Equal(12345f, v));
    }

    private static DepthwiseGeometry Geometry(int h, int w, int kh, int kw, int sh, int sw, int top, int left, int bottom, int right) =>
        new(h, w, kh, kw, sh, sw, top, left, (h + top + bottom - kh) / sh + 1, (w + left + right - kw) / sw + 1);

    private static float[] RunPlane(bool banded, float[] input, float[] weights, float[] bias, int mult, FusedActivation pre, FusedActivation post, DepthwiseGeometry g)
    {
        var output = new float[mult * g.OH * g.OW];
        var scratch = new float[DepthwiseConv.ScratchFloats(g)];
        scratch.AsSpan().Fill(float.NaN);   // a value read before it was written would show
        fixed (float* x = input, k = weights, b = bias, y = output, s = scratch)
        {
            if (banded) DepthwiseConv.PlaneBanded(SimdLevel.Vector512, x, k, b, mult, y, pre, post, g, s);
            else DepthwiseConv.Plane(SimdLevel.Vector512, x, k, b, mult, y, pre, post, g, s);
        }

        return output;
    }
}
