using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnService.Engine.Kernels;

/// <summary>
/// 8 x 32 tile with AVX-512: 16 accumulators of 16 floats, two B vectors and one broadcast of A
/// per step, 19 of the 32 zmm registers. Each step issues 16 FMAs against 10 loads, so the two
/// FMA pipes, not memory, set the pace.
/// </summary>
internal readonly unsafe struct MicroKernel512 : IRowMicroKernel
{
    public static int MR => 8;
    public static int NR => 32;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(int k, float* a, float* b, float* bias, float* c, int ldc, int rows, bool accumulate, bool relu) =>
        Run(k, a, new PackedRows(b), bias, c, ldc, rows, accumulate, relu);

    /// <summary>The whole tile whatever the columns wanted (not measured narrower with AVX-512).</summary>
    public static void Run(int k, float* a, float* b, float* bias, float* c, int ldc, int rows, int columns, bool accumulate, bool relu) =>
        Run(k, a, new PackedRows(b), bias, c, ldc, rows, accumulate, relu);

    /// <summary>
    /// The same tile with B's rows taken from <paramref name="b"/>: a packed panel, or (implicit GEMM) the input itself.
    /// A short tile (the last rows of M) computes only its valid rows rounded up to an even count: TinyVGG's 10 filters
    /// are 8 + 2 rows of multiply-adds, not 8 + 8.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TRows>(int k, float* a, TRows b, float* bias, float* c, int ldc, int rows, bool accumulate, bool relu)
        where TRows : struct, IRowSource
    {
        if (rows > 6) Run<TRows, TileRows8>(k, a, b, bias, c, ldc, rows, accumulate, relu);
        else if (rows > 4) Run<TRows, TileRows6>(k, a, b, bias, c, ldc, rows, accumulate, relu);
        else if (rows > 2) Run<TRows, TileRows4>(k, a, b, bias, c, ldc, rows, accumulate, relu);
        else Run<TRows, TileRows2>(k, a, b, bias, c, ldc, rows, accumulate, relu);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TRows, TCount>(int k, float* a, TRows b, float* bias, float* c, int ldc, int rows, bool accumulate, bool relu)
        where TRows : struct, IRowSource
        where TCount : struct, ITileRows
    {
        // The products start from zero and the start value (bias, or the earlier blocks' sum) is added once at
        // the end: each depth block is its own partial sum, as in MLAS, not one running sum over all of K.
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int kk = 0; kk < k; kk++)
        {
            float* row = b.Row(kk);
            Vector512<float> b0 = Vector512.Load(row), b1 = Vector512.Load(row + 16);
            Vector512<float> x = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            if (TCount.Count > 2)
            {
                x = Vector512.Create(a[2]);
                c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
                x = Vector512.Create(a[3]);
                c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            }

            if (TCount.Count > 4)
            {
                x = Vector512.Create(a[4]);
                c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
                x = Vector512.Create(a[5]);
                c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            }

            if (TCount.Count > 6)
            {
                x = Vector512.Create(a[6]);
                c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
                x = Vector512.Create(a[7]);
                c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
            }

            a += 8;
        }

        if (accumulate)
        {
            c00 += Vector512.Load(c); c01 += Vector512.Load(c + 16);
            if (rows > 1) { c10 += Vector512.Load(c + ldc); c11 += Vector512.Load(c + ldc + 16); }
            if (rows > 2) { c20 += Vector512.Load(c + 2 * ldc); c21 += Vector512.Load(c + 2 * ldc + 16); }
            if (rows > 3) { c30 += Vector512.Load(c + 3 * ldc); c31 += Vector512.Load(c + 3 * ldc + 16); }
            if (rows > 4) { c40 += Vector512.Load(c + 4 * ldc); c41 += Vector512.Load(c + 4 * ldc + 16); }
            if (rows > 5) { c50 += Vector512.Load(c + 5 * ldc); c51 += Vector512.Load(c + 5 * ldc + 16); }
            if (rows > 6) { c60 += Vector512.Load(c + 6 * ldc); c61 += Vector512.Load(c + 6 * ldc + 16); }
            if (rows > 7) { c70 += Vector512.Load(c + 7 * ldc); c71 += Vector512.Load(c + 7 * ldc + 16); }
        }
        else
        {
            Vector512<float> s = Vector512.Create(bias[0]); c00 += s; c01 += s;
            s = Vector512.Create(bias[1]); c10 += s; c11 += s;
            if (TCount.Count > 2) { s = Vector512.Create(bias[2]); c20 += s; c21 += s; s = Vector512.Create(bias[3]); c30 += s; c31 += s; }
            if (TCount.Count > 4) { s = Vector512.Create(bias[4]); c40 += s; c41 += s; s = Vector512.Create(bias[5]); c50 += s; c51 += s; }
            if (TCount.Count > 6) { s = Vector512.Create(bias[6]); c60 += s; c61 += s; s = Vector512.Create(bias[7]); c70 += s; c71 += s; }
        }

        if (relu)
        {
            Vector512<float> z = Vector512<float>.Zero;
            c00 = Vector512.Max(c00, z); c01 = Vector512.Max(c01, z);
            c10 = Vector512.Max(c10, z); c11 = Vector512.Max(c11, z);
            if (TCount.Count > 2) { c20 = Vector512.Max(c20, z); c21 = Vector512.Max(c21, z); c30 = Vector512.Max(c30, z); c31 = Vector512.Max(c31, z); }
            if (TCount.Count > 4) { c40 = Vector512.Max(c40, z); c41 = Vector512.Max(c41, z); c50 = Vector512.Max(c50, z); c51 = Vector512.Max(c51, z); }
            if (TCount.Count > 6) { c60 = Vector512.Max(c60, z); c61 = Vector512.Max(c61, z); c70 = Vector512.Max(c70, z); c71 = Vector512.Max(c71, z); }
        }

        c00.Store(c); c01.Store(c + 16);
        if (rows == 1) return;
        c += ldc; c10.Store(c); c11.Store(c + 16);
        if (rows == 2) return;
        c += ldc; c20.Store(c); c21.Store(c + 16);
        if (rows == 3) return;
        c += ldc; c30.Store(c); c31.Store(c + 16);
        if (rows == 4) return;
        c += ldc; c40.Store(c); c41.Store(c + 16);
        if (rows == 5) return;
        c += ldc; c50.Store(c); c51.Store(c + 16);
        if (rows == 6) return;
        c += ldc; c60.Store(c); c61.Store(c + 16);
        if (rows == 7) return;
        c += ldc; c70.Store(c); c71.Store(c + 16);
    }
}

/// <summary>Where a micro-kernel finds row k of its B panel (NR floats).</summary>
internal unsafe interface IRowSource
{
    float* Row(nint k);

    /// <summary>Steps a row address serves: for k a multiple of Run, row k + j is Row(k) + j * <see cref="Stride"/> for j &lt; Run.</summary>
    static abstract int Run { get; }

    /// <summary>Floats between the rows of a run (a constant but for <see cref="ChannelRows"/>).</summary>
    nint Stride { get; }

    /// <summary>Where a row's second and third 8 floats start (<see cref="MicroKernel256"/>'s columns 8-15 and 16-23), from its
    /// first: 8 and 16 but in <see cref="TapRows3"/> over rows a whole number of vectors wide, where a panel's three vectors
    /// may lie in different output rows.</summary>
    nint Second { get; }

    /// <inheritdoc cref="Second"/>
    nint Third { get; }
}

/// <summary>A packed [K][32] panel.</summary>
internal readonly unsafe struct PackedRows(float* panel) : IRowSource
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float* Row(nint k) => panel + k * 32;

    public static int Run => 1;
    public nint Stride => 32;
    public nint Second => 8;
    public nint Third => 16;
}

/// <summary>A packed [K][24] panel (<see cref="MicroKernel256"/>'s), its rows taken three at a time from one address (as
/// <see cref="TapRows3"/>'s): SqueezeNet at batch 1 on two threads 1.1x by the median window, GoogLeNet and the Keras net's
/// dense layers alike (AMD EPYC Zen 3, a busy host, alternated in one process).</summary>
internal readonly unsafe struct PackedRows24(float* panel) : IRowSource
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float* Row(nint k) => panel + k * 24;

    public static int Run => 3;
    public nint Stride => 24;
    public nint Second => 8;
    public nint Third => 16;
}

/// <summary>Rows read in place: row k starts at origin + offsets[k] (implicit GEMM).</summary>
internal readonly unsafe struct OffsetRows(float* origin, nint* offsets) : IRowSource
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float* Row(nint k) => origin + offsets[k];

    public static int Run => 1;
    public nint Stride => 0;
    public nint Second => 8;
    public nint Third => 16;
}

/// <summary>Rows read in place three at a time: a 3x3 kernel's taps along an input row, row k + 1 and k + 2 one and two
/// floats after row k for k a multiple of 3 (implicit GEMM, with depth blocks that start at such k). A panel of output rows a
/// whole number of vectors wide has its second and third vectors at <paramref name="second"/> and <paramref name="third"/>
/// (<see cref="ImplicitGemm"/>'s aligned panels).</summary>
internal readonly unsafe struct TapRows3(float* origin, nint* offsets, nint second = 8, nint third = 16) : IRowSource
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float* Row(nint k) => origin + offsets[k];

    public static int Run => 3;
    public nint Stride => 1;
    public nint Second => second;
    public nint Third => third;
}

/// <summary>Rows read in place a whole plane apart: a 1x1 kernel's input channels, row k at origin + k * plane (implicit GEMM),
/// three to an address as <see cref="TapRows3"/>'s, with no offset table to read.</summary>
internal readonly unsafe struct ChannelRows(float* origin, nint plane) : IRowSource
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float* Row(nint k) => origin + k * plane;

    public static int Run => 3;
    public nint Stride => plane;
    public nint Second => 8;
    public nint Third => 16;
}
