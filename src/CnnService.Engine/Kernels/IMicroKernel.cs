namespace CnnService.Engine.Kernels;

// Legend (shared by every kernel file):
//   N   images in the batch            C   input channels       H, W   input height, width
//   M   output channels / units (GEMM rows)                     OH, OW output height, width
//   K   = C*kh*kw, the GEMM depth      P   = OH*OW, output positions per image
//   The GEMM's columns are the N*P output positions of the whole batch: one multiply per layer.
//   MR x NR  the register tile: MR rows of M by NR columns, accumulated in registers.
//   KC  one depth block: B is packed KC rows at a time so the panel stays in L1.

/// <summary>
/// A register-blocked GEMM micro-kernel: computes one MR x NR tile of C over one depth block,
/// from A packed as [K][MR] and B packed as [K][NR]. The products are summed from zero and the
/// start value (the bias, or the earlier blocks' sum) is added once at the end, so a deep layer
/// sums K/KC partial sums of KC terms instead of carrying one long running sum: for K = 1152 its
/// rounding error is about half (MLAS, hence ONNX Runtime, sums this way too). ReLU, if asked,
/// clamps the result before the single store.
/// </summary>
internal unsafe interface IMicroKernel
{
    /// <summary>Rows of the tile (A's panel height).</summary>
    static abstract int MR { get; }

    /// <summary>Columns of the tile (B's panel width).</summary>
    static abstract int NR { get; }

    /// <summary>
    /// c[r*ldc + j] = relu?(start[r, j] + sum_k a[k*MR + r] * b[k*NR + j]) for r &lt; rows (at most MR), j &lt; NR,
    /// where start is bias[r], or the tile's current contents when <paramref name="accumulate"/>
    /// (a later depth block adding to an earlier one). Only <paramref name="rows"/> are read and stored;
    /// the vector kernels compute them rounded up to an even count (A's padding rows are zero).
    /// </summary>
    static abstract void Run(int k, float* a, float* b, float* bias, float* c, int ldc, int rows, bool accumulate, bool relu);

    /// <summary>
    /// As <see cref="Run"/> for a tile of which only the first <paramref name="columns"/> (at most NR) are wanted: a GEMM's
    /// last column panel. A kernel may compute and store all NR (B's packed columns past them are zero); one that has
    /// narrower tiles skips the multiply-adds of the columns nobody reads.
    /// </summary>
    static abstract void Run(int k, float* a, float* b, float* bias, float* c, int ldc, int rows, int columns, bool accumulate, bool relu);
}

/// <summary>A micro-kernel that reads B's rows through an <see cref="IRowSource"/>: a packed panel, or (implicit GEMM) the input in place.</summary>
internal unsafe interface IRowMicroKernel : IMicroKernel
{
    /// <summary>As <see cref="IMicroKernel.Run"/>, row k of B at <paramref name="b"/>.Row(k).</summary>
    static abstract void Run<TRows>(int k, float* a, TRows b, float* bias, float* c, int ldc, int rows, bool accumulate, bool relu)
        where TRows : struct, IRowSource;
}

/// <summary>
/// How many of a tile's MR rows a micro-kernel computes, as a type: the JIT folds the constant, so each count compiles
/// its own loop without the others' multiply-adds. A short tile (the last rows of M) takes the smallest that holds it.
/// </summary>
internal interface ITileRows
{
    static abstract int Count { get; }
}

internal readonly struct TileRows2 : ITileRows { public static int Count => 2; }
internal readonly struct TileRows4 : ITileRows { public static int Count => 4; }
internal readonly struct TileRows6 : ITileRows { public static int Count => 6; }
internal readonly struct TileRows8 : ITileRows { public static int Count => 8; }
