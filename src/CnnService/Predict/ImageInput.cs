using CnnService.Engine.Format;
using CnnService.Imaging;
using CnnService.Inference;

namespace CnnService.Predict;

/// <summary>
/// Encoded images to a model's normalised input through the imaging library, with the decoder's
/// errors turned into the kinds a client can act on: nothing there (InvalidArgument), not an image format we
/// read (UnsupportedMediaType), larger than allowed (TooLarge), broken or truncated (InvalidArgument).
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
