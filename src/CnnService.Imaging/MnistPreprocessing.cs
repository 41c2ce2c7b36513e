namespace CnnService.Imaging;

/// <summary>
/// Makes a photo of a handwritten digit look like an MNIST digit, the way MNIST itself was made
/// (LeCun et al.: each digit "size normalized to fit in a 20x20 pixel box while preserving their
/// aspect ratio" with anti-aliasing, then "centered in a 28x28 image by computing the center of
/// mass of the pixels"). A network trained on MNIST has never seen anything else: a digit that is
/// dark on light paper, small, off centre or on grey paper is out of its distribution as it stands.
/// <list type="number">
/// <item>Polarity and background from the border (a frame 1/32 of the shorter side deep): MNIST is
/// light ink on black, so a light border (median above mid-grey) means the image is inverted.</item>
/// <item>Contrast: ink is measured from the border's level up to the darkest (after inversion:
/// brightest) pixel. Below <see cref="Floor"/> of that range is paper, noise or shading and becomes
/// 0; above <see cref="Solid"/> is solid ink and becomes 255, as MNIST's stroke cores are;
/// in between is linear, which keeps anti-aliased edges. An image with less than
/// <see cref="MinContrast"/> levels of contrast is blank.</item>
/// <item>The ink's bounding box counts pixels above <see cref="BoxLevel"/>, and drops specks: a run
/// of rows or columns cut off from the rest by empty ones and holding under
/// <see cref="SpeckMass"/> of the ink.</item>
/// <item>One resample (<see cref="Resampler"/>, antialiased) scales the box to fit 20 x 20 (5/7 of
/// the field for other sizes) and puts the ink's centre of mass at pixel (14, 14), which is where
/// MNIST's test digits have it on average (index coordinates, measured: 14.01, 13.99). The shift is
/// sub-pixel rather than MNIST's whole pixels.</item>
/// <item>The result is stretched so its brightest pixel is 255 (a thin pen stroke reduced 20-fold
/// is faint; MNIST's never are) and rounded to whole values.</item>
/// </list>
/// It assumes one digit on evenly lit paper that fills the frame; a dark desk around the paper
/// would be taken for background and the paper for ink.
/// </summary>
public static class MnistPreprocessing
{
    /// <summary>Ink below this fraction of the contrast range is background.</summary>
    public const double Floor = 0.15;

    /// <summary>Ink above this fraction of the contrast range is solid (255).</summary>
    public const double Solid = 0.6;

    /// <summary>Pixels at least this fraction of the range above the background make the bounding box.</summary>
    public const double BoxLevel = 0.3;

    /// <summary>Levels between background and ink below which an image holds no digit.</summary>
    public const int MinContrast = 32;

    /// <summary>A separated run of rows or columns with less than this share of the ink is a speck.</summary>
    public const double SpeckMass = 0.02;

    /// <summary>MNIST's digit box (20) over its field (28).</summary>
    public const double BoxFraction = 20.0 / 28.0;

    /// <summary>
    /// Writes the MNIST-style digit in <paramref name="gray"/> (<paramref name="width"/> x <paramref name="height"/>
    /// luminance bytes, overwritten) as <paramref name="outWidth"/> x <paramref name="outHeight"/> raw pixel values
    /// (whole numbers 0..255, ink high) into <paramref name="destination"/>. A blank image gives all zeros.
    /// </summary>
    public static void Apply(Span<byte> gray, int width, int height, Span<float> destination, int outWidth, int outHeight)
    {
        Span<float> field = destination[..(outWidth * outHeight)];
        field.Clear();
        gray = gray[..(width * height)];
        if (!Clean(gray, width, height)) return;
        if (InkBox(gray, width, height) is not (int x0, int y0, int x1, int y1)) return;

        // Only the box's ink is the digit: clear specks and shading outside it, and find its centre of mass.
        double mass = 0, sumX = 0, sumY = 0;
        for (int y = 0; y < height; y++)
        {
            Span<byte> row = gray.Slice(y * width, width);
            if (y < y0 || y >= y1)
            {
                row.Clear();
                continue;
            }

            row[..x0].Clear();
            row[x1..].Clear();
            long rowMass = 0, rowX = 0;
            for (int x = x0; x < x1; x++)
            {
                rowMass += row[x];
                rowX += (long)row[x] * x;
            }

            mass += rowMass;
            sumX += rowX + 0.5 * rowMass;
            sumY += (y + 0.5) * rowMass;
        }

        // Scale: the box's longer side becomes 20 of 28; place the centre of mass on pixel (W/2, H/2), i.e. at W/2 + 0.5.
        double scale = BoxFraction * Math.Min(outWidth, outHeight) / Math.Max(x1 - x0, y1 - y0);
        double centreX = sumX / mass, centreY = sumY / mass;
        double targetX = outWidth / 2 + 0.5, targetY = outHeight / 2 + 0.5;
        Resampler.Resize(gray, width, height, 1, field, outWidth, outHeight,
            new AxisMap(centreX - targetX / scale, 1 / scale), new AxisMap(centreY - targetY / scale, 1 / scale));

        float max = RowArithmetic.Max(field);
        if (max <= 0) return;
        RowArithmetic.StretchToWhole(field, 255f / max);
    }

    /// <summary>
    /// Turns luminance into ink, in place: inverted if the border is light, then the contrast mapping of
    /// the class summary (one table lookup per pixel). False when the image is blank.
    /// </summary>
    private static bool Clean(Span<byte> gray, int width, int height)
    {
        int paper = BorderMedian(gray, width, height);
        bool invert = paper > 127;
        int background = invert ? 255 - paper : paper, peak = 0;
        foreach (byte v in gray) peak = Math.Max(peak, invert ? 255 - v : v);
        int range = peak - background;
        if (range < MinContrast) return false;

        Span<byte> table = stackalloc byte[256];
        for (int v = 0; v < 256; v++)
        {
            double ink = ((invert ? 255 - v : v) - background) / (double)range;
            table[v] = (byte)Math.Round(255 * Math.Clamp((ink - Floor) / (Solid - Floor), 0, 1));
        }

        for (int i = 0; i < gray.Length; i++) gray[i] = table[gray[i]];
        return true;
    }

    /// <summary>The median of a frame 1/32 of the shorter side deep (at least one pixel) around the image, from a histogram.</summary>
    private static int BorderMedian(ReadOnlySpan<byte> gray, int width, int height)
    {
        int depth = Math.Max(1, Math.Min(width, height) / 32);
        Span<int> histogram = stackalloc int[256];
        histogram.Clear();
        long count = 0;
        for (int y = 0; y < height; y++)
        {
            ReadOnlySpan<byte> row = gray.Slice(y * width, width);
            bool wholeRow = y < depth || y >= height - depth;
            for (int x = 0; x < width; x++)
            {
                if (!wholeRow && x == depth) x = Math.Max(x, width - depth);
                histogram[row[x]]++;
                count++;
            }
        }

        long seen = 0;
        for (int v = 0; v < 256; v++)
        {
            seen += histogram[v];
            if (2 * seen >= count) return v;
        }

        return 255;
    }

    /// <summary>The ink's box [x0, x1) x [y0, y1) after dropping specks, or null when there is no ink.</summary>
    private static (int X0, int Y0, int X1, int Y1)? InkBox(ReadOnlySpan<byte> gray, int width, int height)
    {
        byte level = (byte)Math.Ceiling(255 * (BoxLevel - Floor) / (Solid - Floor));
        var columns = new long[width];
        var rows = new long[height];
        Profile(gray, width, level, 0, width, 0, height, columns, rows);
        if (Trim(columns) is not (int x0, int x1)) return null;

        // Rows again within the kept columns, so a speck beside the digit does not stretch it vertically.
        Array.Clear(rows);
        Profile(gray, width, level, x0, x1, 0, height, null, rows);
        if (Trim(rows) is not (int y0, int y1)) return null;
        return (x0, y0, x1, y1);
    }

    /// <summary>Counts the pixels at or above <paramref name="level"/> in the window, per column and per row.</summary>
    private static void Profile(ReadOnlySpan<byte> gray, int width, byte level, int x0, int x1, int y0, int y1, long[]? columns, long[] rows)
    {
        for (int y = y0; y < y1; y++)
        {
            ReadOnlySpan<byte> row = gray.Slice(y * width, width);
            long n = 0;
            for (int x = x0; x < x1; x++)
            {
                if (row[x] < level) continue;
                n++;
                if (columns is not null) columns[x]++;
            }

            rows[y] += n;
        }
    }

    /// <summary>
    /// The range [first, last) of non-empty entries of a profile, after dropping end runs (separated by
    /// empty entries) that hold less than <see cref="SpeckMass"/> of the total; null if all are empty.
    /// </summary>
    private static (int First, int Last)? Trim(long[] profile)
    {
        long total = 0;
        foreach (long v in profile) total += v;
        if (total == 0) return null;

        int first = 0, last = profile.Length;
        while (profile[first] == 0) first++;
        while (profile[last - 1] == 0) last--;
        while (true)
        {
            // The leading run and the trailing run: where are they cut off from the rest?
            int leadEnd = first;
            long lead = 0;
            while (leadEnd < last && profile[leadEnd] != 0) lead += profile[leadEnd++];
            if (leadEnd == last) break; // one run: nothing is separated
            int trailStart = last;
            long trail = 0;
            while (profile[trailStart - 1] != 0) trail += profile[--trailStart];

            if (lead < SpeckMass * total && lead <= trail) first = leadEnd;
            else if (trail < SpeckMass * total) last = trailStart;
            else break;
            while (profile[first] == 0) first++;
            while (profile[last - 1] == 0) last--;
        }

        return (first, last);
    }
}
