using CnnService.Engine.Runtime;

namespace CnnService.Engine.Layers;

/// <summary>
/// numpy broadcasting of two per-item shapes (each dimension equal to the output's or 1), with
/// the output's dimensions collapsed to the fewest that describe both operands: dimensions of
/// size 1 dropped, and neighbours merged where each operand either runs along both or repeats
/// over both. So a same-shape pair is one run of C*H*W, a [C,1,1] gate against [C,H,W] is C runs
/// of H*W against one value each, a scalar is one run against one value, and only odd pairs
/// ([C,1,W] against [1,H,1]) keep three dimensions. Strides are in floats within one item; 0 repeats.
/// </summary>
internal sealed class Broadcast
{
    private Broadcast(int[] dims, long[] left, long[] right)
    {
        Dims = dims;
        LeftStrides = left;
        RightStrides = right;
        Inner = dims[^1];
        RowsPerItem = 1;
        for (int d = 0; d < dims.Length - 1; d++) RowsPerItem *= dims[d];
    }

    /// <summary>The collapsed output dimensions, outermost first (1 to 3 of them).</summary>
    public int[] Dims { get; }
    public long[] LeftStrides { get; }
    public long[] RightStrides { get; }

    /// <summary>The innermost dimension: one contiguous run of the output.</summary>
    public int Inner { get; }

    /// <summary>Runs per item: the product of the outer dimensions.</summary>
    public int RowsPerItem { get; }

    /// <summary>The broadcast shape, or null when a dimension differs and neither is 1.</summary>
    public static TensorShape? Shape(TensorShape a, TensorShape b)
    {
        static int? Dim(int x, int y) => x == y || y == 1 ? x : x == 1 ? y : null;
        return Dim(a.C, b.C) is int c && Dim(a.H, b.H) is int h && Dim(a.W, b.W) is int w ? new TensorShape(c, h, w) : null;
    }

    /// <param name="output">Shape(left, right), already checked.</param>
    public static Broadcast Plan(TensorShape left, TensorShape right, TensorShape output)
    {
        int[] o = [output.C, output.H, output.W], l = [left.C, left.H, left.W], r = [right.C, right.H, right.W];
        var dims = new List<int>(3);
        var leftRuns = new List<bool>(3);
        var rightRuns = new List<bool>(3);
        for (int d = 0; d < 3; d++)
        {
            if (o[d] == 1) continue;
            bool lr = l[d] == o[d], rr = r[d] == o[d];
            if (dims.Count > 0 && leftRuns[^1] == lr && rightRuns[^1] == rr)
            {
                dims[^1] *= o[d];
                continue;
            }

            dims.Add(o[d]);
            leftRuns.Add(lr);
            rightRuns.Add(rr);
        }

        if (dims.Count == 0) return new Broadcast([1], [1], [1]); // [1,1,1] op [1,1,1]
        return new Broadcast([.. dims], Strides(dims, leftRuns), Strides(dims, rightRuns));
    }

    private static long[] Strides(List<int> dims, List<bool> runs)
    {
        var strides = new long[dims.Count];
        long step = 1;
        for (int d = dims.Count - 1; d >= 0; d--)
        {
            strides[d] = runs[d] ? step : 0;
            if (runs[d]) step *= dims[d];
        }

        return strides;
    }
}
