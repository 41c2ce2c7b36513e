using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Kernels;

/// <summary>The dense layer's B packer: its 16 x 16 (AVX-512) and 8 x 8 (AVX) transposes against the plain copy, and the plain copy
/// against the definition.</summary>
public unsafe class RowPackerTests
{
    public static TheoryData<SimdLevel, int, int, int> Panels()
    {
        var data = new TheoryData<SimdLevel, int, int, int>();
        foreach (SimdLevel level in TestModels.VectorLevels().Select(row => (SimdLevel)row[0]))
        {
            data.Add(level, 32, 0, 246);    // Keras MNIST's fc1: a full panel, a depth block of whole 16s and a tail
            data.Add(level, 32, 4920, 246); // the same, from the last depth block's start
            data.Add(level, 17, 0, 40);     // one block of 16 images and a lone one
            data.Add(level, 15, 0, 64);     // no whole block of 16 images; one of 8
            data.Add(level, 7, 0, 64);      // no whole block of images
            data.Add(level, 32, 3, 12);     // no whole block of 16 of depth; one of 8
            data.Add(level, 32, 3, 7);      // no whole block of depth
        }

        return data;
    }

    [VectorTheory]
    [MemberData(nameof(Panels))]
    public void The_transposing_pack_writes_the_same_panel_as_the_plain_copy(SimdLevel level, int count, int k0, int depth) =>
        Assert.Equal(Pack(count, k0, depth, SimdLevel.Scalar), Pack(count, k0, depth, level));

    [Fact]
    public void Column_j_of_the_panel_is_image_j_and_columns_past_the_batch_are_zero()
    {
        const int k = 5408, count = 17, k0 = 246, depth = 246;
        float[] panel = Pack(count, k0, depth, SimdLevel.Scalar);
        float[] x = Input(k);

        for (int kk = 0; kk < depth; kk++)
            for (int j = 0; j < 32; j++)
                Assert.Equal(j < count ? x[(First + j) * k + k0 + kk] : 0f, panel[kk * 32 + j]);
    }

    /// <summary>The panel's first image is row 3 of the input: the packer is handed row 1 as its start, and j0 = 2.</summary>
    private const int First = 3;

    private static float[] Input(int k) => TestModels.Random(40 * k, seed: 11);

    private static float[] Pack(int count, int k0, int depth, SimdLevel level)
    {
        const int k = 5408, nr = 32;
        float[] x = Input(k);
        var panel = new float[depth * nr];
        Array.Fill(panel, float.NaN);   // every float of the panel must be written
        fixed (float* px = x, pp = panel)
        {
            new RowPacker(px + k, k, level).Pack(j0: 2, count, k0, depth, pp, nr);
        }

        return panel;
    }
}
