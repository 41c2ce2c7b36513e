using CnnService.Engine.Runtime;

namespace CnnService.Engine.Data;

/// <summary>
/// A dataset held whole in memory as bytes: N items of <see cref="Shape"/> pixels (0..255) back to back,
/// and one label per item. The IDX reader and the image-folder reader both end up with exactly this,
/// so they share the access code and differ only in how they fill it.
/// </summary>
public abstract class InMemoryDataset : IDataset
{
    private readonly byte[] _pixels;
    private readonly int[] _labels;

    protected InMemoryDataset(string name, TensorShape shape, byte[] pixels, int[] labels, IReadOnlyList<string> classes)
    {
        if (pixels.LongLength != (long)labels.Length * shape.Size)
            throw new ArgumentException($"{pixels.LongLength:N0} pixels are not {labels.Length:N0} items of {shape}.", nameof(pixels));
        Name = name;
        Shape = shape;
        _pixels = pixels;
        _labels = labels;
        Classes = classes;
    }

    public string Name { get; }
    public int Count => _labels.Length;
    public TensorShape Shape { get; }
    public IReadOnlyList<string> Classes { get; }

    public int Label(int index)
    {
        CheckIndex(index);
        return _labels[index];
    }

    public void CopyPixels(int index, Span<float> destination)
    {
        CheckIndex(index);
        int size = Shape.Size;
        if (destination.Length < size) throw new ArgumentException($"Destination holds {destination.Length} values; an item of {Shape} needs {size}.", nameof(destination));
        ReadOnlySpan<byte> source = _pixels.AsSpan(index * size, size);
        for (int i = 0; i < source.Length; i++) destination[i] = source[i];
    }

    protected void CheckIndex(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"{Name} has {Count} items.");
    }
}
