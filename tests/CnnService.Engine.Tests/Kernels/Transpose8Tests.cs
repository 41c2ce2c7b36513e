using CnnService.Engine.Kernels;

namespace CnnService.Engine.Tests.Kernels;

public unsafe class Transpose8Tests
{
    [Fact]
    public void Stores_the_transpose_and_nothing_else()
    {
        if (!Transpose8.IsSupported) return;   // an AVX kernel
        const int ldSrc = 13, ldDst = 11;
        float[] src = new float[8 * ldSrc], dst = new float[8 * ldDst];
        for (int i = 0; i < src.Length; i++) src[i] = i;
        Array.Fill(dst, -1f);

        fixed (float* s = src, d = dst)
        {
            Transpose8.Store(s, ldSrc, d, ldDst);
        }

        for (int i = 0; i < 8; i++)
            for (int j = 0; j < ldDst; j++)
                Assert.Equal(j < 8 ? src[j * ldSrc + i] : -1f, dst[i * ldDst + j]);
    }
}
