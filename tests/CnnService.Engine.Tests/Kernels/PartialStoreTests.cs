using System.Runtime.Intrinsics;
using CnnService.Engine.Kernels;

namespace CnnService.Engine.Tests.Kernels;

/// <summary>A vector's first lanes stored at a row's end: exactly those floats, nothing before or past them, at every width.</summary>
public unsafe class PartialStoreTests
{
    public static TheoryData<int> Counts256 => [0, 1, 2, 3, 4, 5, 6, 7, 8];

    [Theory]
    [MemberData(nameof(Counts256))]
    public void The_avx2_store_writes_the_first_lanes_and_nothing_else(int count) =>
        AssertStores(count, 8, (p, v) => Lanes256Avx2.StoreFirst(p, Vector256.Create(v), count));

    [Theory]
    [MemberData(nameof(Counts256))]
    public void The_256_bit_store_writes_the_first_lanes_and_nothing_else(int count)
    {
        if (!Vector256.IsHardwareAccelerated) return;
        AssertStores(count, 8, (p, v) => Lanes256.StoreFirst(p, Vector256.Create(v), count));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(15)]
    [InlineData(16)]
    public void The_512_bit_store_writes_the_first_lanes_and_nothing_else(int count)
    {
        if (!Vector512.IsHardwareAccelerated) return;
        AssertStores(count, 16, (p, v) => Lanes512.StoreFirst(p, Vector512.Create(v), count));
    }

    private delegate void Store(float* p, float[] lanes);

    /// <summary>Stores lanes 1, 2, ... at offset 3 of a buffer of sentinels and checks every float of it.</summary>
    private static void AssertStores(int count, int lanes, Store store)
    {
        float[] values = Enumerable.Range(1, lanes).Select(i => (float)i).ToArray();
        var buffer = new float[lanes + 6];
        Array.Fill(buffer, -1f);
        fixed (float* p = buffer) store(p + 3, values);

        var expected = new float[buffer.Length];
        Array.Fill(expected, -1f);
        Array.Copy(values, 0, expected, 3, count);
        Assert.Equal(expected, buffer);
    }
}
