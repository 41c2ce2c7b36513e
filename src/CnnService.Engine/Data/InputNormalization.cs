using CnnService.Engine.Format;

namespace CnnService.Engine.Data;

/// <summary>
/// Turns raw pixels into what a network was trained on: <c>(pixel * Scale - Mean[c]) / Std[c]</c>
/// (<see cref="InputSpec"/>). Shared by the trainer, the evaluator and the service so that all three
/// feed a model the same numbers. Computed as <c>pixel * m[c] + b[c]</c> with the per-channel
/// multiplier and offset folded once per call, so the inner loop is one multiply-add per value.
/// </summary>
public static class InputNormalization
{
    /// <summary>
    /// Normalises one or more CHW items: <paramref name="pixels"/> and <paramref name="destination"/> hold the same
    /// whole number of items of the spec's shape. They may be the same span (in place), but must not otherwise overlap.
    /// </summary>
    public static void Apply(InputSpec input, ReadOnlySpan<float> pixels, Span<float> destination)
    {
        int plane = input.Height * input.Width, channels = input.Channels, item = channels * plane;
        if (pixels.Length != destination.Length)
            throw new ArgumentException($"Pixels hold {pixels.Length} values, the destination {destination.Length}; they must match.", nameof(destination));
        if (item == 0 || pixels.Length % item != 0)
            throw new ArgumentException($"{pixels.Length} values are not a whole number of ({channels}, {input.Height}, {input.Width}) items.", nameof(pixels));

        Span<float> multiplier = channels <= 64 ? stackalloc float[channels] : new float[channels];
        Span<float> offset = channels <= 64 ? stackalloc float[channels] : new float[channels];
        for (int c = 0; c < channels; c++)
        {
            multiplier[c] = input.Scale / input.Std[c];
            offset[c] = -input.Mean[c] / input.Std[c];
        }

        for (int start = 0; start < pixels.Length; start += item)
        {
            for (int c = 0; c < channels; c++)
            {
                ReadOnlySpan<float> src = pixels.Slice(start + c * plane, plane);
                Span<float> dst = destination.Slice(start + c * plane, plane);
                float m = multiplier[c], b = offset[c];
                for (int i = 0; i < src.Length; i++) dst[i] = src[i] * m + b;
            }
        }
    }
}
