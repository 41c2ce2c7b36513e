using System.Runtime.Intrinsics;
using CnnService.Engine.Kernels;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Kernels;

/// <summary>
/// The pooling kernel's vector paths against its scalar twin, bit for bit (max and mean reduce in the same
/// order at every level), and the twin against the plain window-by-window loop.
/// </summary>
public unsafe class PoolWindowTests
{
    /// <summary>The vector paths: each level the CPU runs, and the 256-bit path's AVX2-only forms, which run on any AVX2 CPU.</summary>
    public enum Path { Vector512, Vector256, Vector256Avx2 }

    public static IEnumerable<object[]> Paths() =>
        from path in Enum.GetValues<Path>()
        where path == Path.Vector512 ? Simd.IsSupported(SimdLevel.Vector512) : Simd.IsSupported(SimdLevel.Vector256)
        select new object[] { path };

    // kernel, stride, padding (at most half the kernel, as Pool2D requires), ceil_mode
    public static IEnumerable<object[]> WindowsOnEveryPath() =>
        from path in Paths()
        from k in new[] { 2, 3, 5 }
        from s in new[] { 1, 2, 3 }
        from pad in new[] { 0, 1, 2 }
        where 2 * pad <= k
        from ceil in new[] { false, true }
        select new object[] { path[0], k, s, pad, ceil };

    [VectorTheory]
    [MemberData(nameof(WindowsOnEveryPath))]
    public void The_vector_path_equals_the_scalar_twin_at_every_width(Path path, int k, int s, int pad, bool ceil)
    {
        foreach (int h in new[] { 1, 4, 7 })
        for (int w = 1; w <= 40; w++)
        {
            if (h + 2 * pad < k || w + 2 * pad < k) continue;
            var g = Geometry(h, w, k, k, s, s, pad, pad, pad, pad, ceil);
            float[] x = Values(3 * h * w, seed: h * 100 + w);
            foreach (bool max in new[] { true, false })
            foreach (bool includePad in new[] { false, true })
                AssertSameBits(Run(null, x, 3, g, max, includePad), Run(path, x, 3, g, max, includePad), $"h={h} w={w} max={max} includePad={includePad}");
        }
    }

    [VectorTheory]
    [MemberData(nameof(Paths))]
    public void Rectangular_windows_and_uneven_padding_match_the_scalar_twin(Path path)
    {
        (int H, int W, int KH, int KW, int SH, int SW, int Top, int Left, int Bottom, int Right, bool Ceil)[] cases =
        [
            (13, 17, 3, 2, 1, 2, 1, 0, 1, 1, false),
            (9, 40, 2, 5, 2, 3, 0, 2, 1, 2, true),
            (10, 33, 3, 5, 2, 1, 0, 2, 1, 0, true),
            (111, 111, 3, 3, 2, 2, 0, 0, 0, 0, true),   // SqueezeNet's ceil_mode pool
            (112, 112, 3, 3, 2, 2, 1, 1, 1, 1, false),  // ResNet's stem pool
            (12, 35, 3, 3, 1, 2, 1, 1, 1, 1, true),     // stride 2 along the row only
            (28, 28, 3, 3, 1, 1, 1, 1, 1, 1, true),     // GoogLeNet's branch pool
            (7, 7, 7, 7, 1, 1, 0, 0, 0, 0, false),      // one window covering the plane
        ];
        foreach (var c in cases)
        {
            var g = Geometry(c.H, c.W, c.KH, c.KW, c.SH, c.SW, c.Top, c.Left, c.Bottom, c.Right, c.Ceil);
            float[] x = Values(2 * c.H * c.W, seed: c.W);
            foreach (bool max in new[] { true, false })
            foreach (bool includePad in new[] { false, true })
                AssertSameBits(Run(null, x, 2, g, max, includePad), Run(path, x, 2, g, max, includePad), $"{c} max={max} includePad={includePad}");
        }
    }

    [VectorTheory]
    [MemberData(nameof(Paths))]
    public void A_NaN_makes_every_max_whose_window_holds_it_NaN_and_no_other(Path path)
    {
        foreach (int stride in new[] { 2, 1 })   // the stem pools' kernel and the inception branches'
            AssertNaNReachesOnlyItsWindows(path, Geometry(9, 37, 3, 3, stride, stride, 1, 1, 1, 1, ceil: true));
    }

    private static void AssertNaNReachesOnlyItsWindows(Path path, PoolGeometry g)
    {
        // Each cell in turn: a row's first, a vector's last, the masked tail, a padding-clipped corner.
        // Two planes, the NaN in the first: the second reuses the row buffers the NaN rows left behind.
        foreach (int at in new[] { 0, 15, 16, 36, 37 + 20, 4 * 37 + 33, 8 * 37 + 36 })
        {
            float[] x = Values(2 * 9 * 37, seed: at);
            x[at] = float.NaN;
            float[] twin = Run(null, x, 2, g, max: true, includePad: false);
            AssertSameBits(twin, Run(path, x, 2, g, max: true, includePad: false), $"NaN at {at}");
            for (int plane = 0; plane < 2; plane++)
            {
                float[] plain = Reference(x[(plane * 9 * 37)..], g, max: true);
                for (int i = 0; i < plain.Length; i++) Assert.Equal(float.IsNaN(plain[i]), float.IsNaN(twin[plane * plain.Length + i]));
            }

            Assert.Contains(twin, float.IsNaN);
        }
    }

    [VectorTheory]
    [MemberData(nameof(Paths))]
    public void A_NaN_makes_the_mean_of_its_windows_NaN_too(Path path)
    {
        var g = Geometry(6, 20, 3, 3, 2, 2, 1, 1, 1, 1, ceil: false);
        float[] x = Values(6 * 20, seed: 1);
        x[2 * 20 + 17] = float.NaN;
        float[] twin = Run(null, x, 1, g, max: false, includePad: true);
        AssertSameBits(twin, Run(path, x, 1, g, max: false, includePad: true), "mean");
        Assert.Contains(twin, float.IsNaN);
    }

    [VectorTheory]
    [MemberData(nameof(Paths))]
    public void Minus_infinity_is_a_value_the_max_returns_and_padding_never_beats(Path path)
    {
        var g = Geometry(5, 19, 3, 3, 2, 2, 1, 1, 1, 1, ceil: true);
        float[] x = Enumerable.Repeat(float.NegativeInfinity, 5 * 19).ToArray();
        x[0] = -1e30f; // the top-left window's only finite cell
        float[] y = Run(path, x, 1, g, max: true, includePad: false);
        AssertSameBits(Run(null, x, 1, g, max: true, includePad: false), y, "-inf");
        Assert.Equal(-1e30f, y[0]);
        Assert.All(y.Skip(1), v => Assert.Equal(float.NegativeInfinity, v));
    }

    [VectorTheory]
    [MemberData(nameof(Paths))]
    public void Plus_and_minus_infinity_in_the_same_rows_give_the_exact_max(Path path)
    {
        foreach (int stride in new[] { 2, 1 })
            AssertInfinitiesGiveTheExactMax(path, Geometry(6, 21, 3, 3, stride, stride, 1, 1, 1, 1, ceil: false));
    }

    private static void AssertInfinitiesGiveTheExactMax(Path path, PoolGeometry g)
    {
        // +inf + -inf is NaN: the vector path's NaN probe fires without a NaN, and the row it sends to the twin must stay exact.
        float[] x = Values(6 * 21, seed: 4);
        x[21 + 2] = float.PositiveInfinity;
        x[2 * 21 + 19] = float.NegativeInfinity;
        float[] y = Run(path, x, 1, g, max: true, includePad: false);
        AssertSameBits(Run(null, x, 1, g, max: true, includePad: false), y, "infinities");
        Assert.DoesNotContain(y, float.IsNaN);
        Assert.Contains(float.PositiveInfinity, y);
    }

    [VectorTheory]
    [MemberData(nameof(Paths))]
    public void Plus_zero_beats_minus_zero_in_either_order(Path path)
    {
        var g = Geometry(2, 34, 2, 2, 2, 2, 0, 0, 0, 0, ceil: false);
        var x = new float[2 * 34];
        for (int i = 0; i < x.Length; i++) x[i] = -0f;
        x[3] = 0f;       // second column of window 1, top row
        x[34 + 4] = 0f;  // first column of window 2, bottom row
        float[] y = Run(path, x, 1, g, max: true, includePad: false);
        AssertSameBits(Run(null, x, 1, g, max: true, includePad: false), y, "zeros");
        for (int i = 0; i < y.Length; i++)
            Assert.Equal(i is 1 or 2 ? 0 : int.MinValue, BitConverter.SingleToInt32Bits(y[i])); // +0 where a +0 was, else -0
    }

    [VectorTheory]
    [MemberData(nameof(Paths))]
    public void The_result_does_not_depend_on_what_the_scratch_held(Path path)
    {
        var g = Geometry(11, 23, 3, 3, 2, 2, 1, 1, 1, 1, ceil: true);
        float[] x = Values(4 * 11 * 23, seed: 9);
        foreach (bool max in new[] { true, false })
            AssertSameBits(Run(path, x, 4, g, max, includePad: false, scratchFill: 0f), Run(path, x, 4, g, max, includePad: false, scratchFill: float.NaN), $"max={max}");
    }

    [VectorTheory]
    [MemberData(nameof(Paths))]
    public void Rows_pooled_in_separate_calls_write_only_their_own_rows(Path path)
    {
        // Chunks of a layer split the output rows; a row's last vector must not spill into a row another thread
        // writes, nor past the output on a plane narrower than a vector.
        foreach (var (h, w, pad, ceil) in new[] { (111, 111, 0, true), (9, 5, 0, false), (7, 7, 1, false), (20, 33, 1, true), (5, 3, 1, true) })
        foreach (int stride in new[] { 2, 1 })
        {
            var g = Geometry(h, w, 3, 3, stride, stride, pad, pad, pad, pad, ceil);
            float[] x = Values(2 * h * w, seed: w);
            float[] whole = Run(path, x, 2, g, max: true, includePad: false);
            int split = g.OH / 2, size = 2 * g.OH * g.OW;
            float[] first = RunRows(path, x, 2, g, 0, split), second = RunRows(path, x, 2, g, split, g.OH);
            for (int plane = 0; plane < 2; plane++)
            for (int i = 0; i < g.OH * g.OW; i++)
            {
                int at = plane * g.OH * g.OW + i;
                bool inFirst = i < split * g.OW;
                Assert.Equal(whole[at], inFirst ? first[at] : second[at]);
                Assert.Equal(Sentinel, inFirst ? second[at] : first[at]);
            }

            Assert.All(first[size..].Concat(second[size..]), v => Assert.Equal(Sentinel, v));
        }
    }

    [Theory]
    [InlineData(111, 111, 3, 3, 2, 2, 0, 0, 0, 0, true)]
    [InlineData(112, 112, 3, 3, 2, 2, 1, 1, 1, 1, false)]
    [InlineData(13, 17, 3, 2, 1, 2, 1, 0, 1, 1, false)]
    [InlineData(7, 7, 7, 7, 1, 1, 0, 0, 0, 0, false)]
    [InlineData(9, 40, 2, 5, 2, 3, 0, 2, 1, 2, true)]
    public void The_scalar_twin_equals_the_plain_loop(int h, int w, int kh, int kw, int sh, int sw, int top, int left, int bottom, int right, bool ceil)
    {
        var g = Geometry(h, w, kh, kw, sh, sw, top, left, bottom, right, ceil);
        float[] x = TestModels.Random(h * w, seed: 3);
        foreach (bool max in new[] { true, false })
        foreach (bool includePad in new[] { true, false })
        {
            float[] twin = Run(null, x, 1, g, max, includePad), plain = Reference(x, g, max, includePad);
            // Max picks the same element; the mean sums rows first, the plain loop cell by cell: a rounding apart.
            for (int i = 0; i < twin.Length; i++)
                Assert.True(max ? twin[i] == plain[i] : Math.Abs(twin[i] - plain[i]) <= 1e-6f, $"max={max} includePad={includePad} at {i}: {twin[i]} vs {plain[i]}");
        }
    }

    /// <summary>Random values with ties, signed zeros and infinities among them, so max and mean are both tested where they are delicate.</summary>
    private static float[] Values(int count, int seed)
    {
        var random = new Random(seed);
        var x = new float[count];
        for (int i = 0; i < count; i++)
        {
            int kind = random.Next(16);
            x[i] = kind switch
            {
                0 => -0f,
                1 => 0f,
                2 => random.Next(-2, 3),
                3 => float.NegativeInfinity,
                _ => (float)(random.NextDouble() * 2 - 1),
            };
        }

        return x;
    }

    private static PoolGeometry Geometry(int h, int w, int kh, int kw, int sh, int sw, int top, int left, int bottom, int right, bool ceil) =>
        new(h, w, kh, kw, sh, sw, top, left, bottom, right, Size(h, kh, sh, top, bottom, ceil), Size(w, kw, sw, left, right, ceil));

    private static int Size(int size, int k, int s, int before, int after, bool ceil) => Support.Reference.PoolOutput(size, k, s, before, after, ceil);

    /// <summary><paramref name="planes"/> planes through the scalar twin (path null) or one vector path, the scratch first filled with <paramref name="scratchFill"/>.</summary>
    private static float[] Run(Path? path, float[] x, int planes, PoolGeometry g, bool max, bool includePad, float scratchFill = float.NaN)
    {
        var y = new float[planes * g.OH * g.OW];
        var scratch = new float[PoolWindow.ScratchFloats(g)];
        Array.Fill(scratch, scratchFill);
        fixed (float* src = x, dst = y, s = scratch)
        {
            switch (path)
            {
                case null: PoolWindow.Planes(SimdLevel.Scalar, src, dst, planes, g, max, includePad, s); break;
                case Path.Vector512: PoolWindow.Planes(SimdLevel.Vector512, src, dst, planes, g, max, includePad, s); break;
                case Path.Vector256: PoolWindow.Planes(SimdLevel.Vector256, src, dst, planes, g, max, includePad, s); break;
                case Path.Vector256Avx2: RunAvx2(src, dst, planes, g, max, includePad, s); break;
            }
        }

        return y;
    }

    /// <summary>What <see cref="RunRows"/> leaves in the output rows it was not asked for.</summary>
    private const float Sentinel = 12345.5f;

    /// <summary>Output rows [<paramref name="row0"/>, <paramref name="row1"/>) of max pooling into an output with a vector of
    /// guard floats after it; every other output, and the guard, left at <see cref="Sentinel"/>.</summary>
    private static float[] RunRows(Path path, float[] x, int planes, PoolGeometry g, int row0, int row1)
    {
        var y = new float[planes * g.OH * g.OW + PoolGeometry.MaxLanes];
        Array.Fill(y, Sentinel);
        var scratch = new float[PoolWindow.ScratchFloats(g)];
        SimdLevel level = path == Path.Vector512 ? SimdLevel.Vector512 : SimdLevel.Vector256;
        fixed (float* src = x, dst = y, s = scratch)
        {
            if (path == Path.Vector256Avx2)
            {
                PoolWindow.Prepare(g, s, max: true, includePad: false);
                PoolWindow.Planes<Vector256<float>, Lanes256Avx2, PoolWindow.MaxReduce>(src, dst, planes, g, includePad: false, s, row0, row1);
            }
            else
            {
                PoolWindow.Planes(level, src, dst, planes, row0, row1, g, max: true, includePad: false, s);
            }
        }

        return y;
    }

    /// <summary>The AVX2-only forms, prepared as <see cref="PoolWindow.Planes"/> prepares its scratch.</summary>
    private static void RunAvx2(float* src, float* dst, int planes, PoolGeometry g, bool max, bool includePad, float* scratch)
    {
        PoolWindow.Prepare(g, scratch, max, includePad);
        if (max) PoolWindow.Planes<Vector256<float>, Lanes256Avx2, PoolWindow.MaxReduce>(src, dst, planes, g, includePad, scratch);
        else PoolWindow.Planes<Vector256<float>, Lanes256Avx2, PoolWindow.SumReduce>(src, dst, planes, g, includePad, scratch);
    }

    private static float[] Reference(float[] x, PoolGeometry g, bool max, bool includePad = false)
    {
        var y = new float[g.OH * g.OW];
        fixed (float* src = x, dst = y)
            PoolWindow.PlaneReference(src, dst, g.H, g.W, g.KH, g.KW, g.SH, g.SW, g.Top, g.Left, g.Bottom, g.Right, g.OH, g.OW, max, includePad);
        return y;
    }

    /// <summary>Equal bits, or both NaN (which NaN a max returns is not specified).</summary>
    private static void AssertSameBits(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            bool same = float.IsNaN(expected[i]) ? float.IsNaN(actual[i]) : BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]);
            Assert.True(same, $"{what}: output {i} is {actual[i]} ({BitConverter.SingleToInt32Bits(actual[i]):X8}), the scalar twin {expected[i]} ({BitConverter.SingleToInt32Bits(expected[i]):X8})");
        }
    }
}
