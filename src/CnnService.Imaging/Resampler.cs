using System.Buffers;

namespace CnnService.Imaging;

/// <summary>
/// Resizes 8-bit images with a triangle (bilinear) filter widened by the reduction factor, as PIL's
/// and torchvision's antialiased bilinear resize do: each output pixel averages every source pixel
/// under its footprint, so a photo reduced 100-fold to 28 x 28 keeps thin strokes (grey) instead
/// of skipping them, and enlarging is plain bilinear interpolation. Separable: rows first, into a
/// float buffer of source rows x destination width, then columns; about two multiply-adds per
/// source value whatever the sizes. Weights never go negative, so values stay within 0..255.
/// <para>
/// Taps outside the source are dropped and the rest renormalised (edges are not darkened); an
/// output pixel whose footprint misses the source entirely is 0.
/// </para>
/// </summary>
internal static class Resampler
{
    /// <summary>
    /// Resamples <paramref name="source"/> (<paramref name="width"/> x <paramref name="height"/> pixels of
    /// <paramref name="channels"/> interleaved bytes) into <paramref name="destination"/>, planar
    /// (channel after channel of <paramref name="outWidth"/> x <paramref name="outHeight"/> floats).
    /// </summary>
    public static void Resize(ReadOnlySpan<byte> source, int width, int height, int channels,
        Span<float> destination, int outWidth, int outHeight, AxisMap x, AxisMap y)
    {
        int plane = outWidth * outHeight;
        if (source.Length < width * height * channels) throw new ArgumentException("The source is smaller than its dimensions.", nameof(source));
        if (destination.Length < channels * plane) throw new ArgumentException("The destination is smaller than channels x outWidth x outHeight.", nameof(destination));

        Taps columns = Taps.For(x, width, outWidth), rows = Taps.For(y, height, outHeight);
        (int first, int last) = rows.Span();
        if (first >= last)
        {
            destination[..(channels * plane)].Clear();
            return;
        }

        int used = last - first;
        float[] across = ArrayPool<float>.Shared.Rent(channels * used * outWidth);
        try
        {
            ResizeRows(source, width, channels, columns, first, last, across, outWidth);
            ResizeColumns(across, used, channels, rows, first, destination, outWidth, outHeight);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(across);
        }
    }

    /// <summary>Pass 1: every source row in [first, last) resized horizontally into <paramref name="across"/>, [channel][row - first][outWidth].</summary>
    private static void ResizeRows(ReadOnlySpan<byte> source, int width, int channels, Taps columns, int first, int last, float[] across, int outWidth)
    {
        int used = last - first;
        ReadOnlySpan<int> starts = columns.Start, counts = columns.Count;
        ReadOnlySpan<float> weights = columns.Weight;
        for (int r = first; r < last; r++)
        {
            ReadOnlySpan<byte> line = source.Slice(r * width * channels, width * channels);
            for (int c = 0; c < channels; c++)
            {
                Span<float> output = across.AsSpan((c * used + r - first) * outWidth, outWidth);
                for (int o = 0; o < output.Length; o++)
                {
                    ReadOnlySpan<float> w = weights.Slice(o * columns.Width, counts[o]);
                    float sum = 0;
                    for (int k = 0, s = starts[o] * channels + c; k < w.Length; k++, s += channels) sum += line[s] * w[k];
                    output[o] = sum;
                }
            }
        }
    }

    /// <summary>Pass 2: down the columns of <paramref name="across"/> into the planes of <paramref name="destination"/>.</summary>
    private static void ResizeColumns(float[] across, int used, int channels, Taps rows, int first, Span<float> destination, int outWidth, int outHeight)
    {
        int plane = outWidth * outHeight;
        for (int c = 0; c < channels; c++)
        {
            ReadOnlySpan<float> planeIn = across.AsSpan(c * used * outWidth, used * outWidth);
            Span<float> planeOut = destination.Slice(c * plane, plane);
            for (int o = 0; o < outHeight; o++)
            {
                Span<float> output = planeOut.Slice(o * outWidth, outWidth);
                output.Clear();
                int start = rows.Start[o] - first, count = rows.Count[o], at = o * rows.Width;
                for (int k = 0; k < count; k++)
                    RowArithmetic.AddScaled(output, planeIn.Slice((start + k) * outWidth, outWidth), rows.Weight[at + k]);
            }
        }
    }

    /// <summary>For each output pixel of one axis: the first source pixel it reads, how many, and their weights (summing to 1).</summary>
    private sealed class Taps
    {
        public required int[] Start { get; init; }
        public required int[] Count { get; init; }

        /// <summary>Row o's weights are <c>Weight[o * Width ..]</c>.</summary>
        public required float[] Weight { get; init; }

        public required int Width { get; init; }

        public static Taps For(AxisMap map, int sourceLength, int outputLength)
        {
            // The triangle spans ±1 source pixel when enlarging and ±Scale when reducing.
            double stretch = Math.Max(map.Scale, 1.0), support = stretch;
            int taps = (int)Math.Ceiling(2 * support) + 2;
            var starts = new int[outputLength];
            var counts = new int[outputLength];
            var weights = new float[outputLength * taps];
            for (int o = 0; o < outputLength; o++)
            {
                double centre = map.Start + (o + 0.5) * map.Scale;
                int lo = (int)Math.Max(0, Math.Floor(centre - support)), hi = (int)Math.Min(sourceLength, Math.Ceiling(centre + support));
                double total = 0;
                int n = 0;
                for (int i = lo; i < hi && n < taps; i++, n++)
                {
                    double w = Math.Max(0, 1 - Math.Abs((i + 0.5 - centre) / stretch));
                    weights[o * taps + n] = (float)w;
                    total += w;
                }

                if (total <= 0)
                {
                    n = 0;
                }
                else
                {
                    for (int k = 0; k < n; k++) weights[o * taps + k] = (float)(weights[o * taps + k] / total);
                }

                starts[o] = lo;
                counts[o] = n;
            }

            return new Taps { Start = starts, Count = counts, Weight = weights, Width = taps };
        }

        /// <summary>The source range [first, last) any output reads; empty when none reads anything.</summary>
        public (int First, int Last) Span()
        {
            int first = int.MaxValue, last = 0;
            for (int o = 0; o < Start.Length; o++)
            {
                if (Count[o] == 0) continue;
                first = Math.Min(first, Start[o]);
                last = Math.Max(last, Start[o] + Count[o]);
            }

            return first < last ? (first, last) : (0, 0);
        }
    }
}
