using System.Buffers;
using System.Text.Json.Nodes;
using CnnService.Engine.Data;
using CnnService.Engine.Format;

namespace CnnService.Imaging;

/// <summary>
/// Encoded image to model input, in two steps that every caller shares: <see cref="ToPixels(ReadOnlySpan{byte}, InputSpec, ImageLimits, Span{float})"/>
/// gives raw pixel values (whole numbers 0..255, CHW, the input's shape), exactly what an
/// <see cref="IDataset"/> hands the trainer; <see cref="ToInput"/> then applies the engine's
/// <see cref="InputNormalization"/>, as the trainer and the evaluator do. So the service, a model
/// trained on an image folder and its evaluation all feed a network the same numbers.
/// <para>
/// Colour: <c>grayscale</c> is BT.601 luminance (<see cref="Luminance"/>), <c>rgb</c> keeps the three
/// channels as planes. Size: a plain antialiased resize to height x width (<see cref="Resampler"/>),
/// unless the input spec carries <c>"preprocess": "mnist"</c> (<see cref="MnistPreprocessing"/>).
/// </para>
/// Stateless and thread-safe.
/// </summary>
public static class ImagePreprocessor
{
    /// <summary>The key of the input spec (an unknown key, kept in <see cref="InputSpec.Extra"/>) naming a preprocessing.</summary>
    public const string PreprocessKey = "preprocess";

    public const string MnistName = "mnist";

    /// <summary>
    /// What <paramref name="spec"/> asks for. Throws <see cref="ArgumentException"/> for a preprocessing this
    /// library does not know, or one the input's shape does not allow: call it when a model is loaded to
    /// reject such a model there rather than on its first request.
    /// </summary>
    public static ImagePreprocessing PreprocessingOf(InputSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string? hint = null;
        if (spec.Extra.TryGetPropertyValue(PreprocessKey, out JsonNode? node) && node is not null)
        {
            if (node is not JsonValue value || !value.TryGetValue(out hint))
                throw new ArgumentException($"input \"{PreprocessKey}\" must be a string (known: \"{MnistName}\"), got {node.ToJsonString()}", nameof(spec));
        }

        if (spec.Color == ColorMode.None) return ImagePreprocessing.None;
        int channels = spec.Color == ColorMode.Rgb ? 3 : 1;
        if (spec.Channels != channels)
            throw new ArgumentException($"input color {spec.Color.ToString().ToLowerInvariant()} needs {channels} channel(s), the input has {spec.Channels}", nameof(spec));
        return hint switch
        {
            null => ImagePreprocessing.Resize,
            MnistName when spec.Color == ColorMode.Grayscale => ImagePreprocessing.Mnist,
            MnistName => throw new ArgumentException($"input \"{PreprocessKey}\": \"{MnistName}\" needs a grayscale input, this one is {spec.Color.ToString().ToLowerInvariant()}", nameof(spec)),
            _ => throw new ArgumentException($"input \"{PreprocessKey}\": \"{hint}\" is not a known preprocessing (known: \"{MnistName}\")", nameof(spec)),
        };
    }

    /// <summary>
    /// Decodes <paramref name="encoded"/> and writes the model's normalised input, C x H x W floats, into the first values
    /// of <paramref name="destination"/>. Throws <see cref="ImageDecodeException"/> for a bad image or a model that takes none.
    /// </summary>
    public static void ToInput(ReadOnlySpan<byte> encoded, InputSpec spec, ImageLimits limits, Span<float> destination)
    {
        ToPixels(encoded, spec, limits, destination);
        Span<float> item = destination[..Size(spec)];
        InputNormalization.Apply(spec, item, item);
    }

    /// <summary>Decodes <paramref name="encoded"/> and writes raw pixel values (whole numbers 0..255), C x H x W, into the first values of <paramref name="destination"/>.</summary>
    public static void ToPixels(ReadOnlySpan<byte> encoded, InputSpec spec, ImageLimits limits, Span<float> destination)
    {
        // The model and the destination are checked before the image: their errors are the caller's, and cheaper.
        ImagePreprocessing preprocessing = Check(spec, destination);
        (int minWidth, int minHeight) = DecodeAtLeast(spec, preprocessing);
        using DecodedImage image = ImageDecoder.Decode(encoded, limits, minWidth, minHeight);
        ToPixels(image, spec, preprocessing, destination);
    }

    /// <summary>
    /// How small an image may be decoded (<see cref="ImageDecoder.Decode(ReadOnlySpan{byte}, ImageLimits, int, int)"/>)
    /// without changing what the preprocessing makes of it: twice the input's size for a resize (the resampler still
    /// averages at least 2 x 2 pixels into each), and 8 x 28 = 224 pixels for MNIST, whose digit may take only part
    /// of the photo and is then measured (border, ink box, centre of mass) before its reduction to 20 pixels.
    /// </summary>
    internal static (int Width, int Height) DecodeAtLeast(InputSpec spec, ImagePreprocessing preprocessing) => preprocessing == ImagePreprocessing.Mnist
        ? (8 * Math.Max(spec.Width, spec.Height), 8 * Math.Max(spec.Width, spec.Height))
        : (2 * spec.Width, 2 * spec.Height);

    /// <summary>Raw pixel values of an already decoded image; see <see cref="ToPixels(ReadOnlySpan{byte}, InputSpec, ImageLimits, Span{float})"/>.</summary>
    public static void ToPixels(DecodedImage image, InputSpec spec, Span<float> destination) =>
        ToPixels(image, spec, Check(spec, destination), destination);

    private static void ToPixels(DecodedImage image, InputSpec spec, ImagePreprocessing preprocessing, Span<float> destination)
    {
        int h = spec.Height, w = spec.Width;
        Span<float> item = destination[..Size(spec)];
        if (spec.Color == ColorMode.Rgb)
        {
            Resampler.Resize(image.Rgb, image.Width, image.Height, 3, item, w, h, AxisMap.Fit(image.Width, w), AxisMap.Fit(image.Height, h));
        }
        else
        {
            byte[] gray = ArrayPool<byte>.Shared.Rent(image.Width * image.Height);
            try
            {
                Luminance.Of(image, gray);
                if (preprocessing == ImagePreprocessing.Mnist)
                {
                    MnistPreprocessing.Apply(gray, image.Width, image.Height, item, w, h);
                    return;
                }

                Resampler.Resize(gray, image.Width, image.Height, 1, item, w, h, AxisMap.Fit(image.Width, w), AxisMap.Fit(image.Height, h));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(gray);
            }
        }

        // Whole values, as an 8-bit image (and an IDX or image-folder dataset) holds them.
        for (int i = 0; i < item.Length; i++) item[i] = MathF.Round(item[i]);
    }

    private static ImagePreprocessing Check(InputSpec spec, Span<float> destination)
    {
        ImagePreprocessing preprocessing = PreprocessingOf(spec);
        if (preprocessing == ImagePreprocessing.None)
        {
            throw new ImageDecodeException(ImageErrorKind.Unsupported,
                $"this model does not take images: its input is a tensor of {spec.Channels} x {spec.Height} x {spec.Width} values (color \"none\")");
        }

        if (destination.Length < Size(spec))
            throw new ArgumentException($"The destination holds {destination.Length} values; the input ({spec.Channels}, {spec.Height}, {spec.Width}) needs {Size(spec)}.", nameof(destination));
        return preprocessing;
    }

    private static int Size(InputSpec spec) => spec.Channels * spec.Height * spec.Width;
}
