using System.Buffers;
using CnnService.Inference;

namespace CnnService.Predict;

/// <summary>
/// The images of one request, normalised and packed as [Count, C, H, W] in a rented buffer that goes
/// back to the pool on dispose. Built one image at a time by the readers.
/// </summary>
public sealed class PredictInputs(int imageSize, int maxImages) : IDisposable
{
    private float[] _buffer = ArrayPool<float>.Shared.Rent(imageSize);

    public int Count { get; private set; }
    public float[] Buffer => _buffer;

    /// <summary>Room for one more image; fails with TooLarge past the per-request limit.</summary>
    public Span<float> Next()
    {
        if (Count == maxImages)
            throw InferenceException.TooLarge($"A request may hold at most {maxImages} images.");
        int needed = (Count + 1) * imageSize;
        if (_buffer.Length < needed)
        {
            float[] bigger = ArrayPool<float>.Shared.Rent(Math.Max(needed, _buffer.Length * 2));
            _buffer.AsSpan(0, Count * imageSize).CopyTo(bigger);
            ArrayPool<float>.Shared.Return(_buffer);
            _buffer = bigger;
        }

        return _buffer.AsSpan(Count++ * imageSize, imageSize);
    }

    public void Dispose()
    {
        ArrayPool<float>.Shared.Return(_buffer);
        _buffer = [];
    }
}
