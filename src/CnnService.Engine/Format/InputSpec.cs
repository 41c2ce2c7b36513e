using System.Text.Json.Nodes;

namespace CnnService.Engine.Format;

/// <summary>How an image becomes the network's input: <c>(pixel * Scale - Mean[c]) / Std[c]</c>.</summary>
public sealed class InputSpec
{
    public required int Channels { get; init; }
    public required int Height { get; init; }
    public required int Width { get; init; }
    public ColorMode Color { get; init; } = ColorMode.None;
    public float Scale { get; init; } = 1f;
    /// <summary>One value per channel (a single value is broadcast by the parser).</summary>
    public required float[] Mean { get; init; }
    public required float[] Std { get; init; }
    public JsonObject Extra { get; init; } = new();
}

public enum ColorMode { Grayscale, Rgb, None }
