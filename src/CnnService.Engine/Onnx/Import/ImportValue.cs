namespace CnnService.Engine.Onnx.Import;

/// <summary>
/// What an ONNX tensor name stands for while a graph is imported: a tensor the network computes
/// per request, or a value known at import (an initializer, a Constant, or anything computed from
/// them, such as the shape chains PyTorch emits around Reshape).
/// </summary>
internal abstract record ImportValue;

/// <summary>
/// A tensor computed per request, produced by the layer named <paramref name="Source"/> (or the model's
/// input). <paramref name="Dims"/> are its ONNX dims, the batch first (<see cref="Batch"/>).
/// <paramref name="ShuffleGroups"/> marks the 5-D view of a channel shuffle on its way to the layer it becomes.
/// </summary>
internal sealed record DynamicValue(string Source, long[] Dims, ShuffleStage Shuffle = ShuffleStage.None, long ShuffleGroups = 0) : ImportValue
{
    /// <summary>The batch dimension: free at import, fixed per request.</summary>
    public const long Batch = long.MinValue;

    public int Rank => Dims.Length;
}

/// <summary>The channel shuffle PyTorch writes as Reshape to [N, g, C/g, H, W], Transpose(0, 2, 1, 3, 4), Reshape back.</summary>
internal enum ShuffleStage { None, Split, Transposed }

/// <summary>A value known at import. Integers may hold <see cref="DynamicValue.Batch"/> for the batch size.</summary>
internal sealed record ConstantValue(long[] Dims, float[]? Floats, long[]? Ints) : ImportValue
{
    public long Count => Floats?.Length ?? Ints!.Length;

    public static ConstantValue Of(long[] dims, float[] values) => new(dims, values, null);

    public static ConstantValue Of(long[] dims, long[] values) => new(dims, null, values);

    public bool IsInteger => Ints is not null;

    public float[] AsFloats() => Floats ?? Array.ConvertAll(Ints!, v => v == DynamicValue.Batch ? float.NaN : (float)v);

    public long[] AsInts() => Ints ?? Array.ConvertAll(Floats!, v => (long)v);
}
