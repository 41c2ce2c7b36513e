using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Kernels;

/// <summary>The fused small convolution + 2x2 max pool kernel: its AVX-512 and AVX2 forms against its scalar twin, and the
/// twin against the plain convolution, ReLU and pool.</summary>
public unsafe class ConvPool2x2Tests
{
    public static TheoryData<int, int, int, int, int, int, bool> Shapes => new()
    {
        // m, c, kh, kw, h, w, relu
        { 32, 1, 3, 3, 28, 28, true },    // Keras' MNIST network
        { 6, 3, 3, 3, 11, 9, false },     // channels not a multiple of 4, odd conv output (the last row and column dropped)
        { 5, 2, 2, 4, 9, 40, true },      // two column blocks, the second partial
        { 4, 1, 5, 5, 6, 6, true },       // one pooled cell per row
        { 7, 1, 3, 3, 6, 21, true },      // nine pooled columns (the second half of a block holds one); 7 = 3 + 3 + 1 channels
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_vector_kernel_stores_the_same_bits_as_its_scalar_twin(int m, int c, int kh, int kw, int h, int w, bool relu)
    {
        if (!ConvPool2x2.IsSupported) return;   // an AVX-512 kernel
        Assert.Equal(Run(m, c, kh, kw, h, w, relu, SimdLevel.Scalar), Run(m, c, kh, kw, h, w, relu, SimdLevel.Vector512));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_256_bit_kernel_stores_the_same_bits_as_its_scalar_twin(int m, int c, int kh, int kw, int h, int w, bool relu)
    {
        if (!ConvPool2x2.Supports(SimdLevel.Vector256)) return;   // an AVX2 kernel
        Assert.Equal(Run(m, c, kh, kw, h, w, relu, SimdLevel.Scalar), Run(m, c, kh, kw, h, w, relu, SimdLevel.Vector256));
    }

    public static TheoryData<SimdLevel, int, int, int, int> DeinterleaveShapes()
    {
        var data = new TheoryData<SimdLevel, int, int, int, int>();
        foreach (SimdLevel level in new[] { SimdLevel.Vector512, SimdLevel.Vector256 })
        {
            data.Add(level, 1, 3, 28, 28);   // c, kw, h, w: Keras' MNIST network
            data.Add(level, 3, 3, 11, 9);    // an odd width: the last column is read by no pooled cell
            data.Add(level, 2, 4, 9, 40);    // two column blocks, the second partial
            data.Add(level, 1, 5, 6, 6);     // one pooled cell per row
            data.Add(level, 1, 3, 4, 21);    // nine pooled columns: the second half of a block holds one
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(DeinterleaveShapes))]
    public void The_vector_deinterleave_writes_the_same_phases_as_the_plain_copy(SimdLevel level, int c, int kw, int h, int w)
    {
        if (!ConvPool2x2.Supports(level)) return;
        // The image ends the buffer: a load past its last row would read (or fault on) what is not there, so the masks must hold it back.
        float[] x = TestModels.Random(c * h * w, seed: 3);
        int pw = (w - kw + 1) / 2;
        var plain = new float[ConvPool2x2.PhaseFloats(c, h, kw)];
        var vector = new float[plain.Length];
        fixed (float* px = x, pp = plain, pv = vector)
        {
            for (int j0 = 0; j0 < pw; j0 += ConvPool2x2.Lanes)
            {
                int cols = Math.Min(ConvPool2x2.Lanes, pw - j0);
                Array.Fill(plain, float.NaN);
                Array.Fill(vector, -1f);
                ConvPool2x2.Deinterleave(px, c, h, w, kw, j0, cols, pp);
                if (level == SimdLevel.Vector512) ConvPool2x2.DeinterleaveVector(px, c, h, w, kw, j0, cols, pv);
                else ConvPool2x2.Deinterleave256(px, c, h, w, kw, j0, cols, pv);
                Assert.Equal(plain, vector);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_scalar_twin_is_the_convolution_then_relu_then_pool(int m, int c, int kh, int kw, int h, int w, bool relu)
    {
        float[] x = TestModels.Random(c * h * w, seed: 3), weight = TestModels.Random(m * c * kh * kw, seed: 4), bias = TestModels.Random(m, seed: 5);
        int oh = h - kh + 1, ow = w - kw + 1;
        float[] conv = Reference.Conv2D(x, 1, c, h, w, weight, bias, m, kh, kw, 1, 1, 0, 0, oh, ow, reflect: false);
        if (relu) conv = Reference.Map(conv, v => Math.Max(v, 0));
        float[] expected = Reference.Pool(conv, 1, m, oh, ow, 2, 2, 2, 2, 0, 0, oh / 2, ow / 2, max: true);

        TestModels.AssertClose(expected, Run(m, c, kh, kw, h, w, relu, SimdLevel.Scalar, x, weight, bias));
    }

    [Theory]
    [InlineData(SimdLevel.Vector512)]
    [InlineData(SimdLevel.Vector256)]
    public void Lanes_past_the_last_pooled_column_are_left_alone(SimdLevel level)
    {
        if (!ConvPool2x2.Supports(level)) return;
        // 13 pooled columns: a stored 14th lane would land on the next row's first cell, here a sentinel.
        float[] output = Run(1, 1, 3, 3, 28, 28, relu: true, level, outputSlack: 3);
        Assert.Equal([float.NaN, float.NaN, float.NaN], output[^3..]);
    }

    /// <summary>Runs the kernel as the layer does, block by block and row by row, over one image with random data unless given.</summary>
    private static float[] Run(int m, int c, int kh, int kw, int h, int w, bool relu, SimdLevel level,
        float[]? x = null, float[]? weight = null, float[]? bias = null, int outputSlack = 0)
    {
        x ??= TestModels.Random(c * h * w, seed: 3);
        weight ??= TestModels.Random(m * c * kh * kw, seed: 4);
        bias ??= TestModels.Random(m, seed: 5);
        int ph = (h - kh + 1) / 2, pw = (w - kw + 1) / 2, rowStride = (kw + 1) * ConvPool2x2.Lanes;
        float[] packed = ConvPool2x2.Pack(weight, m, c * kh * kw);
        int[] taps = ConvPool2x2.Taps(c, h, kh, kw);
        var phases = new float[ConvPool2x2.PhaseFloats(c, h, kw)];
        var output = new float[m * ph * pw + outputSlack];
        Array.Fill(output, float.NaN);
        fixed (float* px = x, pwts = packed, pb = bias, pd = phases, po = output)
        fixed (int* pt = taps)
        {
            for (int j0 = 0; j0 < pw; j0 += ConvPool2x2.Lanes)
            {
                int cols = Math.Min(ConvPool2x2.Lanes, pw - j0);
                if (level == SimdLevel.Vector512) ConvPool2x2.DeinterleaveVector(px, c, h, w, kw, j0, cols, pd);
                else if (level == SimdLevel.Vector256) ConvPool2x2.Deinterleave256(px, c, h, w, kw, j0, cols, pd);
                else ConvPool2x2.Deinterleave(px, c, h, w, kw, j0, cols, pd);
                for (int py = 0; py < ph; py++)
                {
                    // The last channel's rows end the buffer: its slack is what a full-width store would overwrite.
                    float* o = po + py * pw + j0;
                    if (level == SimdLevel.Vector512) ConvPool2x2.Row(pwts, pb, m, pd, pt, taps.Length, rowStride, py, o, ph * pw, cols, relu);
                    else if (level == SimdLevel.Vector256) ConvPool2x2.Row256(pwts, pb, m, pd, pt, taps.Length, rowStride, py, o, ph * pw, cols, relu);
                    else ConvPool2x2.RowScalar(pwts, pb, m, pd, pt, taps.Length, rowStride, py, o, ph * pw, cols, relu);
                }
            }
        }

        return output;
    }
}
