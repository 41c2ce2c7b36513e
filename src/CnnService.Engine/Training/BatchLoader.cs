using CnnService.Engine.Data;
using CnnService.Engine.Format;

namespace CnnService.Engine.Training;

/// <summary>
/// Fills a network's input with a batch of dataset items, normalised as the model's input spec
/// says (the same arithmetic the service applies to an uploaded image), optionally shifted by a
/// few pixels each way (zeros fill the edge: MNIST's background) as augmentation.
/// </summary>
internal sealed class BatchLoader
{
    private readonly IDataset _data;
    private readonly InputSpec _input;
    private readonly float[] _pixels;
    private readonly float[] _shifted;

    public BatchLoader(IDataset data, InputSpec input)
    {
        if (data.Shape.C != input.Channels || data.Shape.H != input.Height || data.Shape.W != input.Width)
            throw new ArgumentException($"{data.Name} holds {data.Shape} items, but the model takes [{input.Channels},{input.Height},{input.Width}].");
        _data = data;
        _input = input;
        _pixels = new float[data.Shape.Size];
        _shifted = new float[data.Shape.Size];
    }

    /// <summary>Loads items <paramref name="indices"/> into <paramref name="input"/> and their labels into <paramref name="labels"/>.</summary>
    public void Load(ReadOnlySpan<int> indices, Span<float> input, Span<int> labels, int shift, ulong seed)
    {
        int size = _data.Shape.Size;
        var random = new SplitMix64(seed);
        for (int i = 0; i < indices.Length; i++)
        {
            _data.CopyPixels(indices[i], _pixels);
            labels[i] = _data.Label(indices[i]);
            float[] source = _pixels;
            if (shift > 0)
            {
                Shift(_pixels, _shifted, random.Next(2 * shift + 1) - shift, random.Next(2 * shift + 1) - shift);
                source = _shifted;
            }

            InputNormalization.Apply(_input, source, input.Slice(i * size, size));
        }
    }

    /// <summary>dst[c, y, x] = src[c, y - dy, x - dx], zero outside.</summary>
    private void Shift(float[] src, float[] dst, int dy, int dx)
    {
        int h = _data.Shape.H, w = _data.Shape.W, plane = h * w;
        Array.Clear(dst);
        for (int c = 0; c < _data.Shape.C; c++)
        {
            for (int y = Math.Max(0, dy); y < Math.Min(h, h + dy); y++)
            {
                int x0 = Math.Max(0, dx), x1 = Math.Min(w, w + dx);
                src.AsSpan(c * plane + (y - dy) * w + x0 - dx, x1 - x0).CopyTo(dst.AsSpan(c * plane + y * w + x0));
            }
        }
    }
}
