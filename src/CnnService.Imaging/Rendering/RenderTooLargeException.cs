namespace CnnService.Imaging.Rendering;

/// <summary>A picture that would exceed <see cref="PixelCanvas.MaxSide"/>: the caller asked for too many tiles or too large a scale.</summary>
public sealed class RenderTooLargeException(string message) : Exception(message);
