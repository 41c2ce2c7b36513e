using SkiaSharp;

namespace CnnService.Tests.Imaging.Support;

/// <summary>
/// Digits drawn with a pen of a given width as Skia paths (no fonts needed), dark blue ink on grey
/// paper, to test the strokes a real pen leaves: far thinner, relative to the digit, than MNIST's.
/// </summary>
internal static class PenDigits
{
    /// <summary>The digits drawn, each as strokes in a 100 x 140 design box.</summary>
    public static IReadOnlyDictionary<int, Action<SKPathBuilder>> Shapes { get; } = new Dictionary<int, Action<SKPathBuilder>>
    {
        [0] = p => p.AddOval(new SKRect(20, 10, 80, 130), SKPathDirection.Clockwise),
        [1] = p => { p.MoveTo(40, 30); p.LineTo(55, 10); p.LineTo(55, 130); },
        [2] = p => { p.MoveTo(20, 40); p.CubicTo(20, 0, 85, 0, 80, 45); p.LineTo(20, 130); p.LineTo(85, 130); },
        [3] = p => { p.MoveTo(20, 25); p.CubicTo(40, 0, 90, 5, 80, 40); p.CubicTo(75, 65, 50, 68, 40, 68); p.CubicTo(95, 70, 90, 130, 50, 130); p.LineTo(20, 120); },
        [4] = p => { p.MoveTo(65, 130); p.LineTo(65, 10); p.LineTo(15, 95); p.LineTo(90, 95); },
        [5] = p => { p.MoveTo(80, 12); p.LineTo(30, 12); p.LineTo(25, 65); p.CubicTo(95, 40, 100, 130, 25, 125); },
        [7] = p => { p.MoveTo(15, 12); p.LineTo(85, 12); p.LineTo(40, 130); },
    };

    /// <summary>A PNG of <paramref name="digit"/> 3x the design size (300 x 420) at (150, 120) in a 600 x 800 image, stroked <paramref name="pen"/> pixels wide.</summary>
    public static byte[] Png(int digit, float pen)
    {
        using var bitmap = new SKBitmap(600, 800);
        using (var canvas = new SKCanvas(bitmap))
        using (var builder = new SKPathBuilder())
        {
            canvas.Clear(new SKColor(215, 212, 205));
            canvas.Translate(150, 120);
            canvas.Scale(3f);
            Shapes[digit](builder);
            using SKPath path = builder.Detach();
            using var paint = new SKPaint
            {
                Color = new SKColor(30, 30, 60), Style = SKPaintStyle.Stroke, StrokeWidth = pen / 3f, IsAntialias = true,
                StrokeCap = SKStrokeCap.Round, StrokeJoin = SKStrokeJoin.Round,
            };
            canvas.DrawPath(path, paint);
        }

        using SKData data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
