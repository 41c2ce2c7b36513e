namespace CnnService.Imaging;

/// <summary>
/// Where one axis of a resized image samples its source, in continuous coordinates (pixel i covers
/// [i, i + 1)): destination coordinate u reads source coordinate <c>Start + u * Scale</c>.
/// A plain resize of n source pixels to m is <c>(0, n / m)</c>; a crop, a zoom or a sub-pixel
/// shift is any other start and scale.
/// </summary>
internal readonly record struct AxisMap(double Start, double Scale)
{
    public static AxisMap Fit(int source, int destination) => new(0, (double)source / destination);
}
