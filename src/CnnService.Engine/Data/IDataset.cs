using CnnService.Engine.Runtime;

namespace CnnService.Engine.Data;

/// <summary>
/// Labelled images, as the trainer and the evaluator see them: random access by index, raw pixel
/// values (0..255) that the caller normalises with the model's <see cref="InputNormalization"/>.
/// Kept this small so that an IDX pair, an image folder (<c>ROOT/&lt;label&gt;/*.png</c>) or a
/// view over another dataset (<see cref="DatasetSubset"/>) can all implement it.
/// Implementations are read-only once built, so any number of threads may read them at once.
/// </summary>
public interface IDataset
{
    /// <summary>For messages, e.g. "mnist (t10k)".</summary>
    string Name { get; }

    int Count { get; }

    /// <summary>Channels, height and width of one item.</summary>
    TensorShape Shape { get; }

    /// <summary>Class names: label i means <c>Classes[i]</c>.</summary>
    IReadOnlyList<string> Classes { get; }

    /// <summary>The label of item <paramref name="index"/>, in 0..Classes.Count-1.</summary>
    int Label(int index);

    /// <summary>Writes item <paramref name="index"/>'s raw pixel values (0..255) as floats, CHW order, into the first <c>Shape.Size</c> values of <paramref name="destination"/>.</summary>
    void CopyPixels(int index, Span<float> destination);
}
