using SkiaSharp;

namespace CnnService.Imaging;

/// <summary>
/// EXIF orientation (tag 0x0112) as a walk over the stored pixels. Cameras store the sensor's rows
/// and record how to turn them; Skia reports the tag (<see cref="SKCodec.EncodedOrigin"/>) but its
/// codec returns the rows as stored. The upright pixel (x, y) is stored pixel
/// <c>Start + x * StepX + y * StepY</c> (indices in pixels), which covers the four rotations and
/// four mirrorings with one loop and no branch per pixel.
/// </summary>
internal readonly record struct Orientation(int Width, int Height, int Start, int StepX, int StepY)
{
    /// <summary>The walk that shows a <paramref name="width"/> x <paramref name="height"/> stored image the right way up.</summary>
    public static Orientation Of(SKEncodedOrigin origin, int width, int height)
    {
        int last = width - 1, bottom = (height - 1) * width;
        return origin switch
        {
            // Tag 1..4: rows stay rows (identity, mirrored left-right, rotated 180°, mirrored top-bottom).
            SKEncodedOrigin.TopRight => new(width, height, last, -1, width),
            SKEncodedOrigin.BottomRight => new(width, height, bottom + last, -1, -width),
            SKEncodedOrigin.BottomLeft => new(width, height, bottom, 1, -width),
            // Tag 5..8: stored rows become columns, so the upright image is height x width.
            // 5: transposed; 6: turn 90° clockwise to view (the stored top row is the right edge);
            // 7: transverse; 8: turn 90° anticlockwise to view.
            SKEncodedOrigin.LeftTop => new(height, width, 0, width, 1),
            SKEncodedOrigin.RightTop => new(height, width, bottom, -width, 1),
            SKEncodedOrigin.RightBottom => new(height, width, bottom + last, -width, -1),
            SKEncodedOrigin.LeftBottom => new(height, width, last, width, -1),
            _ => new(width, height, 0, 1, width),
        };
    }
}
