using CnnService.Engine.Format;
using CnnService.Imaging;
using CnnService.Inference;

namespace CnnService.Predict;

/// <summary>
/// Encoded images to a model's normalised input through the imaging library, with the decoder's
/// errors turned into the statuses a client can act on: nothing there (400), not an image format we
/// read (415), larger than allowed (413), broken or truncated (400).
/// </summary>
public sealed class ImageInput(PredictLimits limits)
{
    private readonly ImageLimits _limits = new() { MaxPixels = limits.MaxImagePixels, MinSide = limits.MinImageSide };

    public void Decode(ReadOnlySpan<byte> encoded, InputSpec input, Span<float> destination, string what)
    {
        try
        {
            ImagePreprocessor.ToInput(encoded, input, _limits, destination);
        }
        catch (ImageDecodeException e)
        {
            string detail = $"{what}: {e.Message}";
            throw e.Kind switch
            {
                ImageErrorKind.TooLarge => InferenceException.TooLarge(detail),
                ImageErrorKind.Unsupported => InferenceException.Unsupported(detail),
                _ => InferenceException.Invalid(detail),
            };
        }
    }
}
