namespace CnnService.Engine.Data;

/// <summary>
/// The contents of an unsigned-byte IDX file: its dimensions, outermost first (items, then rows,
/// then columns for images), and the values in row-major order. <c>Data.Length</c> is the product of <c>Dims</c>.
/// </summary>
public sealed record IdxArray(int[] Dims, byte[] Data)
{
    /// <summary>The outermost dimension: images or labels in the file.</summary>
    public int Count => Dims[0];

    /// <summary>Values per item: the product of every dimension but the first (1 for a label file).</summary>
    public int ItemSize => Data.Length / Dims[0];

    public override string ToString() => $"({string.Join(", ", Dims)})";
}
