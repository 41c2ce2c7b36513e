using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Kernels;

/// <summary>The vectorised depthwise kernel against its plain scalar twin, plane by plane.</summary>
public unsafe class DepthwiseConvTests
{
    // H, W, kh, kw, sh, sw, top, left, bottom, right, multiplier
    public static readonly object[][] Geometries =
    [
        [112, 112, 3, 3, 1, 1, 1, 1, 1, 1, 1],   // MobileNet V2's first depthwise layer
        [112, 112, 3, 3, 2, 2, 0, 0, 1, 1, 1],   // stride 2, TensorFlow-style padding (bottom/right)
        [57, 57, 3, 3, 2, 2, 1, 1, 1, 1, 1],     // stride 2, odd size
        [14, 14, 5, 5, 1, 1, 2, 2, 2, 2, 1],     // EfficientNet's 5x5 on a 14x14 map
        [15, 15, 5, 5, 2, 2, 2, 2, 2, 2, 2],     // 5x5 stride 2, multiplier 2
        [7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1],       // narrower than a vector
        [7, 7, 5, 5, 1, 1, 2, 2, 2, 2, 1],
        [5, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1],       // three columns
        [9, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1],      // two vectors and one more column
        [9, 50, 7, 7, 1, 1, 3, 3, 3, 3, 1],      // general path
        [10, 41, 3, 2, 3, 2, 1, 0, 1, 2, 3],     // rectangular, stride [3,2], uneven padding, multiplier 3
        [13, 64, 4, 4, 3, 3, 2, 2, 1, 1, 1],     // stride 3: scalar phase split
        [8, 8, 3, 3, 1, 1, 4, 4, 4, 4, 1],       // padding wider than the kernel: whole rows and columns of zeros
        [6, 40, 1, 1, 2, 2, 0, 0, 0, 0, 1],      // 1x1 stride 2
        [60, 100, 5, 5, 2, 2, 2, 2, 2, 2, 2],    // two bands of rows, multiplier 2
        [14, 14, 3, 3, 2, 2, 1, 1, 1, 1, 1],     // stride 2 on rows shorter than the split's vectors (MobileNet's 14 to 7)
        [28, 29, 5, 5, 2, 2, 2, 2, 2, 2, 1],     // the same for 5x5, odd width (EfficientNet's 28 to 14)
        [9, 28, 3, 3, 2, 2, 0, 0, 1, 1, 1],      // short stride-2 rows with TensorFlow-style padding (right only)
        // 3x3 computes four output rows at once; a band's last block moves back to overlap the one before.
        [3, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1],      // fewer rows than a block: row by row
        [16, 12, 3, 3, 1, 2, 1, 1, 1, 1, 1],     // 16 rows, whole blocks; stride [1,2]
        [11, 17, 3, 3, 2, 1, 1, 1, 1, 1, 1],     // stride [2,1]: six rows, a block and an overlapping one; one vector and a tail
        [12, 20, 3, 3, 3, 3, 1, 1, 1, 1, 1],     // stride 3: row by row
        [10, 600, 3, 3, 1, 1, 1, 1, 1, 1, 1],    // wide rows: bands of four rows, then a band of two, row by row
        [20, 400, 3, 3, 2, 2, 1, 1, 1, 1, 1],    // the same at stride 2
        [22, 30, 3, 3, 1, 1, 1, 1, 1, 1, 2],     // 22 rows: five blocks and an overlapping one, multiplier 2
        // 5x5 computes four output rows at once too.
        [3, 20, 5, 5, 1, 1, 2, 2, 2, 2, 1],      // fewer rows than a block: row by row
        [11, 40, 5, 5, 1, 1, 2, 2, 2, 2, 1],     // 11 rows: two blocks and an overlapping one; two vectors and a tail
        [9, 9, 5, 5, 1, 1, 2, 2, 2, 2, 2],       // a block and an overlapping one, narrower than a vector, multiplier 2
        [27, 27, 5, 5, 2, 2, 2, 2, 2, 2, 1],     // stride 2: 14 rows
    ];

    public static IEnumerable<object[]> GeometriesAtEveryVectorLevel() =>
        from level in TestModels.SimdLevels() where (SimdLevel)level[0] != SimdLevel.Scalar from g in Geometries select g.Append(level[0]).ToArray();

    [VectorTheory]
    [MemberData(nameof(GeometriesAtEveryVectorLevel))]
    public void The_vector_kernel_matches_its_scalar_twin(int h, int w, int kh, int kw, int sh, int sw, int top, int left, int bottom, int right, int mult, SimdLevel level)
    {
        foreach (bool relu in new[] { false, true })
        {
            DepthwiseGeometry g = Geometry(h, w, kh, kw, sh, sw, top, left, bottom, right);
            float[] input = TestModels.Random(h * w, seed: 7), weights = TestModels.Random(mult * kh * kw, seed: 8), bias = TestModels.Random(mult, seed: 9);

            float[] expected = Run(SimdLevel.Scalar, input, weights, bias, mult, relu, g);
            float[] actual = Run(level, input, weights, bias, mult, relu, g);

            TestModels.AssertClose(expected, actual, 1e-5f);
        }
    }

    [VectorTheory]
    [MemberData(nameof(GeometriesAtEveryVectorLevel))]
    public void The_kernel_writes_only_its_output_planes_and_never_reads_stale_scratch(int h, int w, int kh, int kw, int sh, int sw, int top, int left, int bottom, int right, int mult, SimdLevel level)
    {
        DepthwiseGeometry g = Geometry(h, w, kh, kw, sh, sw, top, left, bottom, right);
        float[] input = TestModels.Random(h * w, seed: 7), weights = TestModels.Random(mult * kh * kw, seed: 8), bias = new float[mult];
        int outFloats = mult * g.OH * g.OW;
        var output = new float[outFloats + 64];
        output.AsSpan().Fill(float.NaN);
        output.AsSpan(outFloats).Fill(12345f);
        var scratch = new float[DepthwiseConv.ScratchFloats(g)];
        scratch.AsSpan().Fill(float.NaN);   // a value the kernel read without writing first would show

        fixed (float* x = input, k = weights, b = bias, y = output, s = scratch)
            DepthwiseConv.Plane(level, x, k, b, mult, y, relu: false, g, s);

        Assert.All(output.AsSpan(0, outFloats).ToArray(), v => Assert.True(float.IsFinite(v)));
        Assert.All(output.AsSpan(outFloats).ToArray(), v => Assert.Equal(12345f, v));
    }

    /// <summary>The activations the plan fuses, on the input side and on the output side.</summary>
    private static readonly (FusedActivation Pre, FusedActivation Post)[] Fusions =
    [
        (FusedActivation.Clamp(0, 6), FusedActivation.None),
        (FusedActivation.Clamp(0.25f, 0.75f), FusedActivation.Clamp(-0.5f, 0.5f)),   // a lower bound above zero must not reach the padding
        (FusedActivation.Silu, FusedActivation.None),
        (FusedActivation.None, FusedActivation.Silu),
        (FusedActivation.Silu, FusedActivation.Clamp(0, 6)),
    ];

    [VectorTheory]
    [MemberData(nameof(GeometriesAtEveryVectorLevel))]
    public void Fused_activations_on_either_side_match_the_scalar_twin(int h, int w, int kh, int kw, int sh, int sw, int top, int left, int bottom, int right, int mult, SimdLevel level)
    {
        DepthwiseGeometry g = Geometry(h, w, kh, kw, sh, sw, top, left, bottom, right);
        float[] input = TestModels.Random(h * w, seed: 7, scale: 4f), weights = TestModels.Random(mult * kh * kw, seed: 8), bias = TestModels.Random(mult, seed: 9);
        foreach (var (pre, post) in Fusions)
        {
            float[] expected = Run(SimdLevel.Scalar, input, weights, bias, mult, pre, post, g);
            float[] actual = Run(level, input, weights, bias, mult, pre, post, g);

            TestModels.AssertClose(expected, actual, 1e-5f);
        }
    }

    [VectorTheory]
    [MemberData(nameof(GeometriesAtEveryVectorLevel))]
    public void The_kernel_with_an_input_activation_stays_inside_its_scratch(int h, int w, int kh, int kw, int sh, int sw, int top, int left, int bottom, int right, int mult, SimdLevel level)
    {
        // Converting a row in whole vectors writes past it: into rows written later or the scratch's own slack, never beyond.
        DepthwiseGeometry g = Geometry(h, w, kh, kw, sh, sw, top, left, bottom, right);
        float[] input = TestModels.Random(h * w, seed: 7), weights = TestModels.Random(mult * kh * kw, seed: 8), bias = new float[mult];
        var output = new float[mult * g.OH * g.OW];
        long floats = DepthwiseConv.ScratchFloats(g);
        var scratch = new float[floats + 64];
        scratch.AsSpan((int)floats).Fill(12345f);

        fixed (float* x = input, k = weights, b = bias, y = output, s = scratch)
            DepthwiseConv.Plane(level, x, k, b, mult, y, FusedActivation.Silu, FusedActivation.None, g, s);

        Assert.All(scratch.AsSpan((int)floats).ToArray(), v => Assert.Equal(12345f, v));
    }

    [Fact]
    public void The_scalar_twin_applies_the_input_activation_to_the_input_and_not_to_the_padding()
    {
        // A 1x1 input padded to 3x3 and a kernel of ones: the sum is clamp(x) alone, the eight zeros of padding stay zero.
        var g = new DepthwiseGeometry(1, 1, 3, 3, 1, 1, 1, 1, 1, 1);
        float[] input = [-2f], weights = Enumerable.Repeat(1f, 9).ToArray(), bias = [0f];

        float[] y = Run(SimdLevel.Scalar, input, weights, bias, 1, FusedActivation.Clamp(0.5f, 6), FusedActivation.None, g);

        Assert.Equal([0.5f], y);
    }

    private static DepthwiseGeometry Geometry(int h, int w, int kh, int kw, int sh, int sw, int top, int left, int bottom, int right) =>
        new(h, w, kh, kw, sh, sw, top, left, (h + top + bottom - kh) / sh + 1, (w + left + right - kw) / sw + 1);

    private static float[] Run(SimdLevel level, float[] input, float[] weights, float[] bias, int mult, FusedActivation pre, FusedActivation post, DepthwiseGeometry g)
    {
        var output = new float[mult * g.OH * g.OW];
        var scratch = new float[DepthwiseConv.ScratchFloats(g)];
        fixed (float* x = input, k = weights, b = bias, y = output, s = scratch)
        {
            if (level == SimdLevel.Scalar) DepthwiseConv.PlaneScalar(x, k, b, mult, y, pre, post, g);
            else DepthwiseConv.Plane(level, x, k, b, mult, y, pre, post, g, s);
        }

        return output;
    }

    private static float[] Run(SimdLevel level, float[] input, float[] weights, float[] bias, int mult, bool relu, DepthwiseGeometry g)
    {
        var output = new float[mult * g.OH * g.OW];
        var scratch = new float[DepthwiseConv.ScratchFloats(g)];
        fixed (float* x = input, k = weights, b = bias, y = output, s = scratch)
        {
            if (level == SimdLevel.Scalar) DepthwiseConv.PlaneScalar(x, k, b, mult, y, relu, g);
            else DepthwiseConv.Plane(level, x, k, b, mult, y, relu, g, s);
        }

        return output;
    }
}
