using CnnService.Engine.Runtime;

namespace CnnService.Engine.Data;

/// <summary>
/// Some items of another dataset, in a given order: the first N (<c>--limit</c>), a validation
/// split, a shuffle. A view: nothing is copied, and item i is the source's item <c>indices[i]</c>.
/// </summary>
public sealed class DatasetSubset : IDataset
{
    private readonly IDataset _source;
    private readonly int[] _indices;

    /// <param name="indices">Source indices, each in range; repeats are allowed (bootstrap samples). The array is copied.</param>
    public DatasetSubset(IDataset source, ReadOnlySpan<int> indices, string? name = null)
    {
        for (int i = 0; i < indices.Length; i++)
        {
            if ((uint)indices[i] >= (uint)source.Count)
                throw new ArgumentOutOfRangeException(nameof(indices), indices[i], $"Index {i} of the subset is out of range: {source.Name} has {source.Count} items.");
        }

        _source = source;
        _indices = indices.ToArray();
        Name = name ?? $"{source.Name}, {_indices.Length:N0} of {source.Count:N0}";
    }

    /// <summary>The first <paramref name="count"/> items (all of them if there are fewer).</summary>
    public static DatasetSubset First(IDataset source, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var indices = new int[Math.Min(count, source.Count)];
        for (int i = 0; i < indices.Length; i++) indices[i] = i;
        return new DatasetSubset(source, indices, indices.Length == source.Count ? source.Name : $"{source.Name}, first {indices.Length:N0}");
    }

    public string Name { get; }
    public int Count => _indices.Length;
    public TensorShape Shape => _source.Shape;
    public IReadOnlyList<string> Classes => _source.Classes;

    /// <summary>The source index of item <paramref name="index"/>.</summary>
    public int SourceIndex(int index) => _indices[index];

    public int Label(int index) => _source.Label(_indices[index]);

    public void CopyPixels(int index, Span<float> destination) => _source.CopyPixels(_indices[index], destination);
}
