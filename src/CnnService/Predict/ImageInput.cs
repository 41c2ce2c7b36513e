using CnnService.Engine.Format;

namespace CnnService.Predict;

/// <summary>
/// Encoded images to model inputs. Until the imaging library is merged, images are answered with
/// 415 (unsupported); JSON instances already work.
/// </summary>
public sealed class ImageInput(PredictLimits limits)
{
    public void Decode(ReadOnlySpan<byte> encoded, InputSpec input, Span<float> destination, string what) =>
        throw PredictInputException.Unsupported($"{what}: image decoding is not available in this build (limit {limits.MaxImagePixels:N0} pixels).");
}
