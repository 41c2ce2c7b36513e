using System.Runtime.Intrinsics;
using CnnService.Engine.Kernels;

namespace CnnService.Engine.Tests.Kernels;

public unsafe class Transpose16Tests
{
    [Theory]
    [InlineData(16)]
    [InlineData(14)]   // DirectConv's tile width
    [InlineData(1)]
    public void Stores_the_transpose_of_the_masked_columns_and_nothing_else(int columns)
    {
        if (!Vector512.IsHardwareAccelerated) return;   // an AVX-512 kernel
        const int ldSrc = 32, ldDst = 20;
        float[] src = new float[16 * ldSrc], dst = new float[16 * ldDst];
        for (int i = 0; i < src.Length; i++) src[i] = i;
        Array.Fill(dst, -1f);

        fixed (float* s = src, d = dst)
        {
            Transpose16.Store(s, ldSrc, d, ldDst, Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(columns)).AsSingle());
        }

        for (int i = 0; i < 16; i++)
            for (int j = 0; j < ldDst; j++)
                Assert.Equal(j < columns ? src[j * ldSrc + i] : -1f, dst[i * ldDst + j]);
    }
}
